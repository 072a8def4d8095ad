// NodeRuntime: the embedded node of `stash server`. There is no container
// runtime; instead
//  - every PersistentVolumeClaim gets a host directory DATA/volumes/<ns>/<pvc>
//    and is marked Bound, so a user can put data into it;
//  - Deployments, StatefulSets and DaemonSets get Pod objects for their
//    replicas (PodKeeper, pods.h), with honest statuses;
//  - in every such pod, the containers whose image is stash's (the injected
//    sidecar) run as local `stash` processes with their volumeMounts mapped
//    onto host directories (env STASH_PATH_MAP), restarted with backoff when
//    they exit, stopped when the pod or the container goes away (the
//    sidecars of a Deployment's replicas elect one leader through a Lease);
//  - CronJobs whose container is stash's run that container as a local
//    process at each tick of their schedule, and get status.lastScheduleTime.
// Containers with any other image are not run (nothing claims they are).
//
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stash/agent/pods.h"
#include "stash/agent/process.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/client.h"
#include "stash/kube/informer.h"

namespace stash::agent {

struct NodeOptions {
  std::string data_dir;         // DATA above
  std::string kubeconfig_path;  // given to the processes as KUBECONFIG
  std::string stash_binary;     // empty: this executable
  std::string node_name = "stash-embedded-node";
};

class NodeRuntime {
 public:
  NodeRuntime(const kube::Client& client, Clock& clock, Random& random, NodeOptions opts);
  ~NodeRuntime();

  void Start();
  void Stop();

  // Host directory for a volume of a pod spec; empty when unsupported.
  std::string VolumeHostDir(const std::string& ns, const std::string& pod,
                            const kube::json& volume) const;

 private:
  struct Container {
    std::vector<std::string> argv;
    EnvMap env;
    std::string log_path;
    std::string spec_hash;
  };
  struct Running {
    Container spec;
    std::unique_ptr<ChildProcess> proc;
    int failures = 0;  // recent, for the backoff
    int restarts = 0;  // ever, for restartCount
    SystemTime started{}, restart_at{};
  };
  struct CronState {
    SystemTime next{};
    std::string schedule;
    std::unique_ptr<ChildProcess> proc;
  };

  void OnPvc(const std::string& type, const kube::json& pvc);
  Status PatchStatus(const kube::Resource& r, const kube::json& obj, const kube::json& status);
  std::map<std::string, Container> DesiredContainers(const std::vector<kube::json>& pods);
  void Loop();
  // The pods that should exist now; empty until every informer has synced.
  std::optional<std::vector<kube::json>> SyncPods();
  void SyncContainers(const std::vector<kube::json>& pods);
  void SyncPodStatuses(const std::vector<kube::json>& pods);
  void SyncCronJobs();
  Container MakeContainer(const std::string& ns, const std::string& pod,
                          const kube::json& pod_spec, const kube::json& container,
                          const std::string& log_name);

  const kube::Client& client_;
  Clock& clock_;
  NodeOptions opts_;
  std::vector<std::unique_ptr<kube::Informer>> workloads_;
  std::unique_ptr<kube::Informer> pvcs_, cronjobs_, pods_;
  PodKeeper pod_keeper_;
  std::map<std::string, Running> running_;  // key ns/pod/container
  std::map<std::string, CronState> crons_;  // key ns/name
  std::atomic<bool> stop_{false};
  std::thread loop_;
};

}  // namespace stash::agent
