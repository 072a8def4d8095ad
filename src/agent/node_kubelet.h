// NodeKubelet: the part of the embedded node that runs the containers of
// every image other than stash's in a container runtime (podman), through a
// Kubelet on its own thread: the node's loop hands it the pods (without
// stash's containers, which stay local processes) and reads back the
// containers' states for the pod statuses. Podman calls take 0.1-0.5 s each;
// on their own thread they never delay the node's processes or CronJob ticks.
//
// The runtime is checked once at Start (a pod with podman's pause container
// is created and removed); when the check fails the node says why once in
// its log and in each pod's status (RunScope::not_run_message), and runs no
// other image.
//
// Thread-safety: Start/Stop and SetPods from the node's loop; States,
// Changed and Streams from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stash/agent/kubelet.h"
#include "stash/agent/pod_logs.h"
#include "stash/agent/pods.h"
#include "stash/kube/client.h"

namespace stash::agent {

class NodeKubelet {
 public:
  NodeKubelet(const kube::Client& client, ContainerRuntime& runtime, Clock& clock,
              KubeletOptions opts);
  ~NodeKubelet();

  // Checks the runtime and starts the loop; false (and `why`) when it
  // cannot run containers.
  bool Start(std::string* why);
  void Stop();

  // The pods to run (the node's pods, stash's containers left out), once
  // the node's informers have synced: before, a pod not seen yet would have
  // its containers removed.
  void SetPods(std::vector<apis::Pod> pods);
  // States of the containers the runtime runs for pod `uid` (merged into
  // the maps; nothing for a pod it has not synced).
  void States(const std::string& uid, std::map<std::string, ContainerState>* states,
              std::map<std::string, ContainerState>* init_states) const;
  // True once after any state changed.
  bool Changed() { return changed_.exchange(false); }

  api::PodStreams& streams() { return *streams_; }

 private:
  struct PodStates {
    std::map<std::string, ContainerState> states, init_states;
    bool operator==(const PodStates&) const = default;
  };
  void Loop();

  ApiPodSources sources_;
  ContainerRuntime& runtime_;
  Kubelet kubelet_;
  std::unique_ptr<KubeletPodStreams> streams_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::vector<apis::Pod>> pods_;  // guarded by mu_
  bool wake_ = false;                           // guarded by mu_
  std::map<std::string, PodStates> states_;     // guarded by mu_; by pod uid
  std::atomic<bool> changed_{false};
  std::atomic<bool> stop_{false};
  std::thread loop_;
};

}  // namespace stash::agent
