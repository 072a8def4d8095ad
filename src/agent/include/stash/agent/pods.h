// The Pod objects of the embedded node.
//
// Deployments (through ReplicaSets), StatefulSets and DaemonSets get their
// pods from the cluster's controllers (stash server's src/api/workloads.h,
// or kube-controller-manager) and its scheduler binds them to this node.
// PodKeeper makes the pods of Jobs only (one at a time, replaced up to
// backoffLimit, removed once the Job finished) and returns the pods bound to
// this node, corrected by its own recent writes.
//
// PodStatusFor builds an honest status: containers the node runs (stash's
// image as processes; every image when its container runtime works) report
// their state; where the node has no working runtime, a container of another
// image is waiting with reason NotRunByEmbeddedNode (and why), so such a pod is
// Pending and `kubectl get pod` shows READY 1/2 and that reason. Init
// containers run before the others, as a kubelet runs them.
//
// Thread-safety: one thread at a time (the node's loop).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/apis/batch.h"
#include "stash/apis/core.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/client.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

inline constexpr const char* kNotRunReason = "NotRunByEmbeddedNode";
// Where the backup sidecar says it is not Ready, for its readinessProbe
// (`stash sidecar-ready`, sidecar.h) to read: while the file exists the
// container is not Ready, and its content says why. In a container it is
// kSidecarNotReadyFile in the container's own /tmp; the embedded node, whose
// stash processes share the node's /tmp, names each pod's own file in this
// variable (the probe runs with the container's environment, so it reads
// the same file).
inline constexpr const char* kNotReadyFileEnv = "STASH_NOT_READY_FILE";
inline constexpr const char* kSidecarNotReadyFile = "/tmp/stash-sidecar-not-ready";

// Kubernetes' pod-template-hash form: FNV-32a of the template, its decimal
// digits mapped onto the consonant/digit alphabet of generated names.
std::string PodTemplateHash(const kube::json& pod_template);

// How a container run ended.
struct Termination {
  int exit_code = 0;
  std::string reason;   // Completed, Error
  std::string message;  // the log's last lines when it failed
  SystemTime started{}, finished{};
  bool operator==(const Termination&) const = default;
};

// What the node knows about one of its containers.
struct ContainerState {
  std::string container_id;  // "podman://<id>" for a runtime's container
  std::string image_id;
  bool running = false;
  SystemTime started{};
  int restarts = 0;
  std::string waiting_reason;  // when not running: ContainerCreating, CrashLoopBackOff
  std::string waiting_message;
  std::optional<Termination> terminated;       // ended and not restarted (init, Job)
  std::optional<Termination> last_terminated;  // the previous run (lastState)
  bool not_ready = false;                      // running, but its readiness signal says not Ready
  bool operator==(const ContainerState&) const = default;
};

// Which containers the node runs.
struct RunScope {
  std::string stash_image = std::string(kube::kStashImage);  // always run
  bool other_images = false;                                 // true while a container runtime works
  std::string not_run_message;  // why other images are not run (the runtime's error)
};

// status for `pod`: its current status with what the node reports replaced
// (phase, conditions, hostIP(s), podIP(s) when it runs a container,
// startTime, container statuses, qosClass); members it does not report are
// kept. `states` by container name (the containers the node runs),
// `init_states` likewise for its init containers. Init containers the
// node runs go first, in order: until each exited 0 the pod is Pending, its
// containers wait (PodInitializing) and Initialized is False. Init
// containers the node does not run do not hold the pod back. A pod whose
// restartPolicy is not Always (a Job's) ends Succeeded when its containers
// exited 0, Failed when one failed for good.
apis::PodStatus PodStatusFor(const apis::Pod& pod,
                             const std::map<std::string, ContainerState>& states,
                             const std::map<std::string, ContainerState>& init_states = {},
                             const RunScope& scope = {});

class PodKeeper {
 public:
  PodKeeper(const kube::Client& client, Random& random, std::string node_name);

  // One pass over `jobs` against `pods` (every Pod object as listed).
  // Returns this node's pods that should exist after the pass, created ones
  // included; deletions are issued.
  std::vector<apis::Pod> Sync(const std::vector<apis::Job>& jobs,
                              const std::vector<apis::Pod>& pods);

 private:
  std::string RandomSuffix();
  // A pod of `job`, bound to this node.
  apis::Pod NewPod(const apis::Job& job, const std::string& name) const;

  const kube::Client& client_;
  Random& random_;
  const std::string node_name_;
  // Pods created or deleted by us that the informer may not show yet; keeps a
  // pass from creating a second set before the first is observed.
  std::map<std::string, apis::Pod> created_;
  std::map<std::string, bool> deleted_;
};

}  // namespace stash::agent
