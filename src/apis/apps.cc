#include "stash/apis/apps.h"

namespace stash::apis {

template <class V>
void DeploymentSpec::Visit(V& v) {
  v("replicas", replicas);
  v("selector", selector);
  v("template", template_);
  v("paused", paused);
}
STASH_APIS_DEFINE_CODEC(DeploymentSpec);

template <class V>
void ReplicaStatus::Visit(V& v) {
  v("observedGeneration", observed_generation);
  v("replicas", replicas);
  v("updatedReplicas", updated_replicas);
  v("readyReplicas", ready_replicas);
  v("availableReplicas", available_replicas);
}
STASH_APIS_DEFINE_CODEC(ReplicaStatus);

template <class V>
void Deployment::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Deployment);

template <class V>
void StatefulSetSpec::Visit(V& v) {
  v("replicas", replicas);
  v("selector", selector);
  v("template", template_);
  v("volumeClaimTemplates", volume_claim_templates);
  v("serviceName", service_name);
  v("podManagementPolicy", pod_management_policy);
}
STASH_APIS_DEFINE_CODEC(StatefulSetSpec);

template <class V>
void StatefulSet::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(StatefulSet);

template <class V>
void DaemonSetSpec::Visit(V& v) {
  v("selector", selector);
  v("template", template_);
}
STASH_APIS_DEFINE_CODEC(DaemonSetSpec);

template <class V>
void DaemonSetStatus::Visit(V& v) {
  v("currentNumberScheduled", current_number_scheduled, Emit::kAlways);
  v("numberMisscheduled", number_misscheduled, Emit::kAlways);
  v("desiredNumberScheduled", desired_number_scheduled, Emit::kAlways);
  v("numberReady", number_ready, Emit::kAlways);
  v("observedGeneration", observed_generation);
}
STASH_APIS_DEFINE_CODEC(DaemonSetStatus);

template <class V>
void DaemonSet::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(DaemonSet);

template <class V>
void ReplicaSetSpec::Visit(V& v) {
  v("replicas", replicas);
  v("selector", selector);
  v("template", template_);
}
STASH_APIS_DEFINE_CODEC(ReplicaSetSpec);

const kube::Resource& ReplicaSet::Resource() {
  static const kube::Resource r{"apps", "v1", "replicasets", "ReplicaSet"};
  return r;
}

template <class V>
void ReplicaSet::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(ReplicaSet);

namespace {
template <class W>
Workload From(const W& w, std::string_view kind, int32_t replicas) {
  Workload out;
  out.api_version = w.api_version.empty() ? "apps/v1" : w.api_version;
  out.kind = kind;
  out.metadata = w.metadata;
  out.replicas = replicas;
  out.template_ = w.spec.template_;
  return out;
}
}  // namespace

Workload Workload::Of(const Deployment& d) {
  return From(d, "Deployment", d.spec.replicas.value_or(1));
}
Workload Workload::Of(const StatefulSet& s) {
  return From(s, "StatefulSet", s.spec.replicas.value_or(1));
}
Workload Workload::Of(const DaemonSet& d) { return From(d, "DaemonSet", 1); }
Workload Workload::Of(const Job& j) {
  Workload out = From(j, "Job", 1);
  if (j.api_version.empty()) out.api_version = "batch/v1";
  out.backoff_limit = j.spec.backoff_limit.value_or(6);
  for (const JobCondition& c : j.status.conditions) {
    if ((c.type == "Complete" || c.type == "Failed") && c.status == "True") out.finished = true;
  }
  return out;
}

}  // namespace stash::apis
