// NodeStreams: the embedded node's answer to pods/log and pods/exec
// (kubectl logs/exec): stash's containers that run as local processes have
// their log file (appended over restarts; no exec into a process), the
// runtime's containers go to the Kubelet (CRI log files, `podman exec`).
//
// Thread-safety: thread-safe; Publish from the node's loop, the rest from
// request threads.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "node_kubelet.h"
#include "stash/api/pod_streams.h"

namespace stash::agent {

class NodeStreams : public api::PodStreams {
 public:
  struct Process {
    std::string pod_uid;
    std::string log_path;
    bool running = false;
  };
  // `kubelet` may be null (no runtime); `not_run` says why other images
  // do not run.
  NodeStreams(NodeKubelet* kubelet, std::string not_run)
      : kubelet_(kubelet), not_run_(std::move(not_run)) {}

  // The process containers now, by "ns/pod/container".
  void Publish(std::map<std::string, Process> processes);

  Result<std::unique_ptr<api::ByteSource>> Logs(const api::ContainerRef& c,
                                                const api::PodLogOptions& options) override;
  Status CanExec(const api::ContainerRef& c) override;
  Result<std::unique_ptr<api::ExecProcess>> Exec(const api::ContainerRef& c,
                                                 const api::ExecCommand& command) override;

 private:
  std::optional<Process> Find(const std::string& key) const;
  // Neither a process nor the kubelet's: why the container does not run here.
  Status NotRun(const api::ContainerRef& c) const;

  NodeKubelet* kubelet_;
  const std::string not_run_;
  mutable std::mutex mu_;
  std::map<std::string, Process> processes_;
};

}  // namespace stash::agent
