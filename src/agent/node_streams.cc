#include "node_streams.h"

#include <thread>

#include "stash/agent/pod_logs.h"

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
  std::string Read() { return ReadLogFrom(path_, &offset_); }
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

Result<std::unique_ptr<api::ByteSource>> NodeStreams::Logs(const api::ContainerRef& c,
                                                           const api::PodLogOptions& options) {
  const std::string key = c.ns + "/" + c.pod + "/" + c.container;
  if (auto p = Find(key); p && p->pod_uid == c.uid) {
    if (options.previous || options.timestamps || options.since_seconds || options.since_time) {
      return InvalidError("container " + c.container + " of pod " + c.pod +
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
  if (kubelet_) return kubelet_->streams().Logs(c, options);
  return NotRun(c);
}

Status NodeStreams::CanExec(const api::ContainerRef& c) {
  if (auto p = Find(c.ns + "/" + c.pod + "/" + c.container); p && p->pod_uid == c.uid) {
    return UnsupportedError("container " + c.container + " of pod " + c.pod +
                            " runs as a process of the embedded node, not in a container: "
                            "there is nothing to exec into");
  }
  if (kubelet_) return kubelet_->streams().CanExec(c);
  return NotRun(c);
}

Result<std::unique_ptr<api::ExecProcess>> NodeStreams::Exec(const api::ContainerRef& c,
                                                            const api::ExecCommand& command) {
  if (Status s = CanExec(c); !s.ok()) return s;
  return kubelet_->streams().Exec(c, command);
}

Status NodeStreams::NotRun(const api::ContainerRef& c) const {
  return InvalidError("container \"" + c.container + "\" in pod \"" + c.pod +
                      "\" is not run by the embedded node" +
                      (not_run_.empty() ? "" : ": " + not_run_));
}

}  // namespace stash::agent
