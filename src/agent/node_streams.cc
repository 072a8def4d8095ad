#include "node_streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <thread>

namespace stash::agent {

namespace {

// A process container's log: plain lines as the process wrote them.
class ProcessLogSource : public api::ByteSource {
 public:
  ProcessLogSource(std::string path, api::PodLogOptions o, std::function<bool()> running)
      : path_(std::move(path)), o_(std::move(o)), running_(std::move(running)) {}

  bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) override {
    while (true) {
      const bool more = o_.follow && running_();  // before reading: nothing written is lost
      std::string data = Read();
      if (first_) {
        first_ = false;
        data = Tail(data);
      }
      if (o_.limit_bytes) {
        int64_t left = *o_.limit_bytes - sent_;
        if (int64_t(data.size()) >= left) {
          data.resize(size_t(std::max<int64_t>(0, left)));
          chunk->append(data);
          return false;
        }
      }
      sent_ += int64_t(data.size());
      chunk->append(data);
      if (!more) return false;
      if (!data.empty() || std::chrono::steady_clock::now() >= until) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  std::string Read() {
    std::string out;
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[65536];
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, off_t(offset_))) > 0) {
      out.append(buf, size_t(n));
      offset_ += uint64_t(n);
    }
    close(fd);
    return out;
  }
  std::string Tail(const std::string& data) const {
    if (!o_.tail_lines) return data;
    size_t pos = data.size();
    if (pos > 0 && data[pos - 1] == '\n') --pos;
    for (int64_t i = 0; i < *o_.tail_lines; ++i) {
      size_t nl = pos == 0 ? std::string::npos : data.rfind('\n', pos - 1);
      if (nl == std::string::npos) return data;
      pos = nl;
    }
    return *o_.tail_lines == 0 ? "" : data.substr(pos + 1);
  }

  std::string path_;
  api::PodLogOptions o_;
  std::function<bool()> running_;
  uint64_t offset_ = 0;
  int64_t sent_ = 0;
  bool first_ = true;
};

}  // namespace

void NodeStreams::Publish(std::map<std::string, Process> processes) {
  std::lock_guard lock(mu_);
  processes_ = std::move(processes);
}

std::optional<NodeStreams::Process> NodeStreams::Find(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = processes_.find(key);
  if (it == processes_.end()) return std::nullopt;
  return it->second;
}

Result<std::unique_ptr<api::ByteSource>> NodeStreams::Logs(const std::string& ns,
                                                           const std::string& pod,
                                                           const std::string& uid,
                                                           const std::string& container,
                                                           const api::PodLogOptions& options) {
  const std::string key = ns + "/" + pod + "/" + container;
  if (auto p = Find(key); p && p->pod_uid == uid) {
    if (options.previous || options.timestamps || options.since_seconds || options.since_time) {
      return InvalidError("container " + container + " of pod " + pod +
                          " runs as a process of the embedded node: its log has no timestamps, "
                          "so --previous, --timestamps and --since are not available for it");
    }
    auto running = [this, key] {
      auto now = Find(key);
      return now && now->running;
    };
    return std::unique_ptr<api::ByteSource>(
        std::make_unique<ProcessLogSource>(p->log_path, options, running));
  }
  if (kubelet_) return kubelet_->streams().Logs(ns, pod, uid, container, options);
  return InvalidError("container \"" + container + "\" in pod \"" + pod +
                      "\" is not run by the embedded node" +
                      (not_run_.empty() ? "" : ": " + not_run_));
}

Status NodeStreams::CanExec(const std::string& ns, const std::string& pod, const std::string& uid,
                            const std::string& container) {
  if (auto p = Find(ns + "/" + pod + "/" + container); p && p->pod_uid == uid) {
    return UnsupportedError("container " + container + " of pod " + pod +
                            " runs as a process of the embedded node, not in a container: "
                            "there is nothing to exec into");
  }
  if (kubelet_) return kubelet_->streams().CanExec(ns, pod, uid, container);
  return InvalidError("container \"" + container + "\" in pod \"" + pod +
                      "\" is not run by the embedded node" +
                      (not_run_.empty() ? "" : ": " + not_run_));
}

Result<std::unique_ptr<api::ExecProcess>> NodeStreams::Exec(
    const std::string& ns, const std::string& pod, const std::string& uid,
    const std::string& container, const std::vector<std::string>& command, bool tty, bool stdin) {
  if (Status s = CanExec(ns, pod, uid, container); !s.ok()) return s;
  return kubelet_->streams().Exec(ns, pod, uid, container, command, tty, stdin);
}

}  // namespace stash::agent
