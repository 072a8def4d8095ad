#include "stash/agent/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

extern char** environ;

namespace stash::agent {

namespace {

std::vector<std::string> MergedEnv(const EnvMap& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (!extra.count(key)) out.push_back(kv);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

// Runs in the child after fork: only async-signal-safe calls.
[[noreturn]] void ExecChild(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env, pid_t parent) {
  // A child must not outlive its parent: after a kill -9 of the server, a
  // surviving backup would finish behind the restarted node's back.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(128 + SIGKILL);
  // Servers block SIGTERM/SIGINT for sigwait and ignore SIGPIPE; a child must
  // start with the defaults or it could not be stopped.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  // Only stdin/out/err go to the child: a descriptor some library opened
  // without O_CLOEXEC (a socket, a database file) must not leak into it.
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 65536; ++fd) close(fd);
  }
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  execve(a[0], a.data(), e.data());
  _exit(127);
}

int DecodeWait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<ProcessResult> RunProcessFor(const std::vector<std::string>& argv, const EnvMap& env,
                                    std::chrono::nanoseconds timeout, bool* timed_out) {
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return done; })) cancel = true;
  });
  auto r = RunProcess(argv, env, &cancel);
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  *timed_out = cancel.load();
  return r;
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "stash";
  return std::string(buf, size_t(n));
}

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const EnvMap& env,
                                 const std::atomic<bool>* cancel,
                                 const std::function<void(std::string_view line)>& on_line) {
  if (argv.empty()) return InvalidError("RunProcess: empty command");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return ErrnoError(errno, "cannot execute " + argv[0]);
  }
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return ErrnoError(errno, "pipe");
  }
  std::vector<std::string> merged = MergedEnv(env);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoError(errno, "fork " + argv[0]);
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    ExecChild(argv, merged, parent);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool term_sent = false;
  char buf[65536];
  while (open_fds > 0) {
    if (cancel && cancel->load() && !term_sent) {
      kill(pid, SIGTERM);
      term_sent = true;
    }
    int r = poll(fds, 2, 200);
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        std::string& text = i == 0 ? result.out : result.err;
        const size_t before = text.size();
        text.append(buf, size_t(n));
        if (i == 0 && on_line) {
          // Lines completed by this read: from the last newline before it.
          size_t start = text.rfind('\n', before == 0 ? 0 : before - 1);
          start = start == std::string::npos || before == 0 ? 0 : start + 1;
          for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
            on_line(std::string_view(text).substr(start, nl - start));
          }
        }
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = DecodeWait(status);
  return result;
}

ChildProcess::~ChildProcess() { Stop(); }

Status ChildProcess::Start(const std::vector<std::string>& argv, const EnvMap& env,
                           const std::string& log_path, bool clean_env) {
  if (argv.empty()) return InvalidError("ChildProcess: empty command");
  std::vector<std::string> merged;
  if (clean_env) {
    for (const auto& [k, v] : env) merged.push_back(k + "=" + v);
  } else {
    merged = MergedEnv(env);
  }
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return ErrnoError(errno, "opening " + log_path);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return ErrnoError(errno, "fork " + argv[0]);
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(log, 1);
    dup2(log, 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    ExecChild(argv, merged, parent);
  }
  close(log);
  pid_ = pid;
  exit_code_ = -1;
  return Status::Ok();
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) exit_code_ = DecodeWait(status);
  pid_ = -1;
  return false;
}

void ChildProcess::Stop(int grace_ms) {
  if (!Running()) return;
  kill(-pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = DecodeWait(status);
  pid_ = -1;
}

}  // namespace stash::agent
