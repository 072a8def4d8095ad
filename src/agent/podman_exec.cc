// PodmanRuntime::Exec: `podman exec` as a child process, its stdio on pipes
// (or on a pty with a tty, so that podman forwards the terminal size).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "stash/agent/podman.h"

extern char** environ;

namespace stash::agent {

namespace {

class PodmanExec : public ExecProcess {
 public:
  ~PodmanExec() override {
    Kill();
    (void)Wait();
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) close(fd);
    }
  }

  Status Spawn(const std::vector<std::string>& argv, const std::string& conf, bool tty) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int master = -1, slave = -1;
    if (tty) {
      if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
        return ErrnoError(errno, "allocating a pty for exec");
      }
      fcntl(master, F_SETFD, FD_CLOEXEC);
      fcntl(slave, F_SETFD, FD_CLOEXEC);
    } else if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
               pipe2(err, O_CLOEXEC) != 0) {
      int e = errno;
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
        if (fd >= 0) close(fd);
      }
      return ErrnoError(e, "pipe for exec");
    }
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).substr(0, 16) != "CONTAINERS_CONF=") env.push_back(*e);
    }
    env.push_back("CONTAINERS_CONF=" + conf);
    std::vector<char*> a, e;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
    e.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return ErrnoError(errno, "fork for exec");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(137);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);
      if (tty) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
      } else {
        setpgid(0, 0);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
      }
      execve(a[0], a.data(), e.data());
      _exit(127);
    }
    pid_ = pid;
    if (tty) {
      close(slave);
      in_ = dup(master);
      out_ = master;
      fcntl(in_, F_SETFD, FD_CLOEXEC);
    } else {
      close(in[0]);
      close(out[1]);
      close(err[1]);
      in_ = in[1];
      out_ = out[0];
      err_ = err[0];
    }
    tty_ = tty;
    return Status::Ok();
  }

  Status WriteStdin(std::string_view bytes) override {
    std::lock_guard lock(in_mu_);
    while (!bytes.empty() && in_ >= 0) {
      ssize_t n = write(in_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(errno, "writing to the command's stdin");
      }
      bytes.remove_prefix(size_t(n));
    }
    return Status::Ok();
  }

  void CloseStdin() override {
    std::lock_guard lock(in_mu_);
    if (in_ < 0) return;
    if (tty_) {
      // A pty has no half-close: end-of-file is the terminal's EOF character.
      (void)!write(in_, "\x04", 1);
    } else {
      close(in_);
      in_ = -1;
    }
  }

  void Resize(uint16_t width, uint16_t height) override {
    if (!tty_ || out_ < 0) return;
    winsize ws{};
    ws.ws_col = width;
    ws.ws_row = height;
    ioctl(out_, TIOCSWINSZ, &ws);
  }

  bool Read(std::string* chunk, int* stream, std::chrono::steady_clock::time_point until) override {
    while (true) {
      pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
      if (out_ < 0 && err_ < 0) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now())
                      .count();
      int r = poll(fds, 2, int(std::max<int64_t>(0, left)));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return true;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[32768];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          chunk->append(buf, size_t(n));
          *stream = i + 1;
          return true;
        }
        if (n < 0 && errno == EINTR) continue;
        // EOF (or EIO: a pty whose other side closed).
        int& fd = i == 0 ? out_ : err_;
        close(fd);
        fd = -1;
      }
    }
  }

  Result<int> Wait() override {
    std::lock_guard lock(wait_mu_);
    if (pid_ > 0) {
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return exit_code_;
  }

  void Kill() override {
    if (pid_ > 0) kill(tty_ ? pid_ : -pid_, SIGKILL);
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  bool tty_ = false;
  int exit_code_ = -1;
  std::mutex in_mu_, wait_mu_;
};

}  // namespace

Result<std::unique_ptr<ExecProcess>> PodmanRuntime::Exec(const std::string& id,
                                                         const std::vector<std::string>& command,
                                                         bool tty, bool stdin) {
  if (podman_path_.empty()) return FailedPreconditionError("podman is not installed");
  if (command.empty()) return InvalidError("exec: no command given");
  std::vector<std::string> argv = {podman_path_, "exec"};
  if (stdin) argv.push_back("--interactive");
  if (tty) argv.push_back("--tty");
  argv.push_back(id);
  argv.insert(argv.end(), command.begin(), command.end());
  auto p = std::make_unique<PodmanExec>();
  if (Status s = p->Spawn(argv, conf_path_, tty); !s.ok()) return s;
  if (!stdin) p->CloseStdin();
  return std::unique_ptr<ExecProcess>(std::move(p));
}

}  // namespace stash::agent
