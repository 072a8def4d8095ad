// The workload controllers kube-controller-manager runs, and the scheduler's
// one job here, for the objects of this server:
//  - ReplicaSetController: a ReplicaSet's pods (generateName "<rs>-",
//    controller ownerReference), created or deleted (unscheduled, pending,
//    not ready and newest first) to match spec.replicas; status replicas,
//    ready/available counts, observedGeneration; SuccessfulCreate/Delete
//    events.
//  - DeploymentController: a ReplicaSet per pod template ("<deploy>-<hash>",
//    label pod-template-hash), revisions in deployment.kubernetes.io/revision
//    (an undo moves the old ReplicaSet to the newest revision), RollingUpdate
//    honouring maxSurge/maxUnavailable or Recreate, spec.paused, history
//    pruned to revisionHistoryLimit; status (replicas, updated, ready,
//    available, unavailable, Available/Progressing conditions) as `kubectl
//    rollout status` reads it; ScalingReplicaSet events.
//  - StatefulSetController: pods "<sts>-<ordinal>" (hostname, subdomain,
//    pod-name and pod-index labels), one PersistentVolumeClaim per
//    volumeClaimTemplate and ordinal ("<template>-<sts>-<ordinal>", kept
//    when the set shrinks or goes, as kube's default Retain policy),
//    OrderedReady or Parallel management, RollingUpdate (highest ordinal
//    first, down to the partition) or OnDelete; ControllerRevisions for
//    `kubectl rollout history`; status with current/update revisions.
//  - DaemonSetController: one pod per Node (nodeSelector honoured),
//    RollingUpdate with maxUnavailable, ControllerRevisions, status.
//  - PodScheduler: binds a pod without spec.nodeName to a Ready,
//    schedulable Node whose labels match its nodeSelector (Scheduled event,
//    PodScheduled condition); without one the pod stays Pending with
//    FailedScheduling, and is bound when a Node turns Ready.
//
// Readiness: a pod counts as ready when its Ready condition is True — or, on
// the embedded node, when every container that is not ready waits with reason
// kNotRunByNodeReason (an image that node does not run: nothing would ever
// make it ready, and counting it unready would stall every rollout there).
//
// Thread-safety: driven by ControllerManager's one thread.
#pragma once

#include <string>
#include <vector>

#include "controllers.h"

namespace stash::api {

// The reason the embedded node (src/agent) gives a container it does not run.
inline constexpr const char* kNotRunByNodeReason = "NotRunByEmbeddedNode";

// The defaults kube-apiserver gives workloads on every write (replicas,
// strategies, revisionHistoryLimit, ...), so `kubectl describe` shows them and
// the controllers read one shape. The pod template is left as written.
void DefaultWorkloadObject(const std::string& resource_key, json* obj);

// kube-apiserver's Job selector generation at create (unless
// spec.manualSelector): the pod template gets the job-name and controller-uid
// labels (both the legacy and the batch.kubernetes.io/ keys) and the selector
// matches batch.kubernetes.io/controller-uid=<uid>, so `kubectl logs job/NAME`
// and `kubectl describe job` find the Job's own pods. `obj` has its uid.
void GenerateJobSelector(json* obj);

// Helpers shared by the workload controllers (workloads.cc).
namespace workload {

bool PodActive(const json& pod);  // not terminating, not Succeeded/Failed
bool PodReady(const json& pod);   // as above, incl. the embedded node's rule
// Ready for at least min_ready_seconds (kube's "available").
bool PodAvailable(const json& pod, int64_t min_ready_seconds, SystemTime now);
// The object without null members and empty objects/arrays: what a typed
// decoder would make of it (kubectl writes `creationTimestamp: null`,
// `resources: {}`), so a template that comes back compares equal.
json Normalized(const json& v);
// kube's SafeEncodeString(fnv32a(template)) of the normalized template: the
// pod-template-hash.
std::string TemplateHash(const json& pod_template, int64_t collision_count = 0);
json ControllerRef(const json& owner);
// The controller owner's uid of an object, "" when none.
std::string ControllerUid(const json& obj);
// Active and inactive objects of `resource` in `ns` controlled by `owner_uid`.
std::vector<json> Controlled(Store& store, const std::string& resource, const std::string& ns,
                             const std::string& owner_uid);
// A pod from a template, owned by `owner` (its controller).
json PodFromTemplate(const json& owner, const json& pod_template);
// intstr as kube resolves it: "25%" of `total` rounded up or down, or an int.
int64_t ResolveIntOrPercent(const json& value, int64_t total, bool round_up, int64_t dflt);
int64_t Int(const json& obj, const json::json_pointer& p, int64_t dflt = 0);
std::string Str(const json& obj, const json::json_pointer& p);

}  // namespace workload

class ReplicaSetController final : public Controller {
 public:
  explicit ReplicaSetController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "rs"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;
  void Tick() override;

 private:
  void Sync(const std::string& ns, const std::string& name);
  ControllerContext& ctx_;
  std::vector<std::string> waiting_;  // ns|name: availability pending minReadySeconds
};

class DeploymentController final : public Controller {
 public:
  explicit DeploymentController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "deploy"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;

 private:
  struct State;
  void Sync(const std::string& ns, const std::string& name);
  // The ReplicaSet of the current template, created if missing (not while
  // paused); its revision the newest.
  std::optional<json> NewReplicaSet(State& s, bool create);
  void RollingUpdate(State& s);
  void Recreate(State& s);
  // Scales one ReplicaSet, with the ScalingReplicaSet event.
  bool Scale(State& s, json& rs, int64_t replicas);
  void CleanupHistory(State& s);
  void WriteStatus(State& s);
  ControllerContext& ctx_;
};

class StatefulSetController final : public Controller {
 public:
  explicit StatefulSetController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "sts"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;

 private:
  void Sync(const std::string& ns, const std::string& name);
  // The claims of `ordinal`, created when missing; false when one could not be.
  bool EnsureClaims(const json& sts, int64_t ordinal);
  ControllerContext& ctx_;
};

class DaemonSetController final : public Controller {
 public:
  explicit DaemonSetController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "ds"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;

 private:
  void Sync(const std::string& ns, const std::string& name);
  ControllerContext& ctx_;
};

class PodScheduler final : public Controller {
 public:
  explicit PodScheduler(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "sched"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;

 private:
  void Schedule(const std::string& ns, const std::string& name);
  ControllerContext& ctx_;
  std::set<std::string> unschedulable_;  // ns|name reported with FailedScheduling
};

// ControllerRevisions of a StatefulSet or DaemonSet (revisions.cc): the one
// of `pod_template` ("<owner>-<hash>"), created with the next revision
// number, or moved to it when an older template returns; old unused ones
// beyond revisionHistoryLimit are deleted. Returns the revision's name.
std::string SyncControllerRevisions(ControllerContext& ctx, const json& owner,
                                    const json& pod_template,
                                    const std::vector<std::string>& in_use);

}  // namespace stash::api
