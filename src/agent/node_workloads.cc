// NodeRuntime::SyncWorkloadStatuses: the status of Deployments, StatefulSets
// and DaemonSets from their pods, as their controllers write it, so that
// `kubectl get deploy` shows READY 3/3 and `kubectl rollout status` ends.
#include <spdlog/spdlog.h>

#include "stash/agent/node.h"
#include "stash/kube/events.h"

namespace stash::agent {

namespace {

using kube::json;

struct Counts {
  int64_t replicas = 0, updated = 0, ready = 0;
};

json Condition(const std::string& type, bool ok, const std::string& reason,
               const std::string& message, const json& current, const std::string& now) {
  const std::string status = ok ? "True" : "False";
  std::string since = now;
  for (const json& c : current.value("conditions", json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == status) {
      since = c.value("lastTransitionTime", now);
    }
  }
  return {{"type", type},       {"status", status},        {"reason", reason},
          {"message", message}, {"lastUpdateTime", since}, {"lastTransitionTime", since}};
}

}  // namespace

void NodeRuntime::SyncWorkloadStatuses(const std::vector<json>& pods,
                                       const std::map<std::string, bool>& ready) {
  const std::string now = kube::FormatTime(clock_.Now());
  std::map<std::string, Counts> by_owner;
  for (const json& p : pods) {
    if (p.contains("/metadata/deletionTimestamp"_json_pointer)) continue;
    for (const json& o : p.value("/metadata/ownerReferences"_json_pointer, json::array())) {
      if (!o.value("controller", false)) continue;
      Counts& c = by_owner[o.value("uid", "")];
      ++c.replicas;
      auto r = ready.find(p.value("/metadata/uid"_json_pointer, ""));
      if (r != ready.end() && r->second) ++c.ready;
    }
  }
  for (size_t i = 0; i < workloads_.size(); ++i) {
    kube::Informer& inf = *workloads_[i];
    if (&inf == jobs_) continue;
    for (const json& w : inf.List()) {
      const std::string kind = w.value("kind", "");
      const kube::Resource& r = kind == "Deployment"    ? kube::res::kDeployments
                                : kind == "StatefulSet" ? kube::res::kStatefulSets
                                                        : kube::res::kDaemonSets;
      const Counts c = by_owner[w.value("/metadata/uid"_json_pointer, "")];
      // Every pod of the workload is of its current template: the node
      // replaces pods of an old one before it counts them (PodKeeper).
      const int64_t want =
          kind == "DaemonSet" ? 1 : w.value("/spec/replicas"_json_pointer, int64_t{1});
      const json current = w.value("status", json::object());
      json status = current;
      status["observedGeneration"] = w.value("/metadata/generation"_json_pointer, int64_t{1});
      if (kind == "DaemonSet") {
        status["currentNumberScheduled"] = c.replicas;
        status["desiredNumberScheduled"] = want;
        status["numberMisscheduled"] = 0;
        status["numberReady"] = c.ready;
        status["updatedNumberScheduled"] = c.replicas;
        status["numberAvailable"] = c.ready;
        status["numberUnavailable"] = std::max<int64_t>(0, want - c.ready);
      } else {
        status["replicas"] = c.replicas;
        status["updatedReplicas"] = c.replicas;
        status["readyReplicas"] = c.ready;
        status["availableReplicas"] = c.ready;
        if (kind == "StatefulSet") status["currentReplicas"] = c.replicas;
        if (kind == "Deployment") {
          status["unavailableReplicas"] = std::max<int64_t>(0, want - c.ready);
          const bool available = c.ready >= want;
          const bool done = available && c.replicas == want;
          status["conditions"] = json::array(
              {Condition("Available", available,
                         available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                         available ? "Deployment has minimum availability."
                                   : "Deployment does not have minimum availability.",
                         current, now),
               Condition(
                   "Progressing", true, done ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                   done ? "ReplicaSet has successfully progressed." : "ReplicaSet is progressing.",
                   current, now)});
        }
      }
      if (status == current) continue;
      Status s = PatchStatus(r, w, status);
      if (!s.ok() && s.code() != Code::kNotFound) {
        spdlog::warn("node: {} {}/{} status: {}", kind,
                     w.value("/metadata/namespace"_json_pointer, ""),
                     w.value("/metadata/name"_json_pointer, ""), s.ToString());
      }
    }
  }
}

}  // namespace stash::agent
