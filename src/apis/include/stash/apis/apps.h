// apps/v1 workloads: Deployment, StatefulSet, DaemonSet and ReplicaSet, with
// the parts the operator (sidecar injection) and the embedded node (pods of
// their replicas, statuses) read and write. Strategies and the other
// members travel in `extra` (codec.h).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/batch.h"
#include "stash/apis/codec.h"
#include "stash/apis/core.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct DeploymentSpec {
  std::optional<int32_t> replicas;
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  bool paused = false;
  STASH_APIS_STRUCT(DeploymentSpec);  // strategy, minReadySeconds, ... in extra
};
STASH_APIS_DECLARE_CODEC(DeploymentSpec);

// The replica counts the apps/v1 statuses share (Deployment, ReplicaSet,
// StatefulSet).
struct ReplicaStatus {
  int64_t observed_generation = 0;
  int32_t replicas = 0;
  int32_t updated_replicas = 0;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  STASH_APIS_STRUCT(ReplicaStatus);  // conditions, collisionCount, ... in extra
};
STASH_APIS_DECLARE_CODEC(ReplicaStatus);

struct Deployment {
  static const kube::Resource& Resource() { return kube::res::kDeployments; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  DeploymentSpec spec;
  ReplicaStatus status;
  STASH_APIS_STRUCT(Deployment);
};
STASH_APIS_DECLARE_CODEC(Deployment);

struct StatefulSetSpec {
  std::optional<int32_t> replicas;
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  std::vector<PersistentVolumeClaim> volume_claim_templates;
  std::string service_name;
  std::string pod_management_policy;
  STASH_APIS_STRUCT(StatefulSetSpec);  // updateStrategy, ... in extra
};
STASH_APIS_DECLARE_CODEC(StatefulSetSpec);

struct StatefulSet {
  static const kube::Resource& Resource() { return kube::res::kStatefulSets; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  StatefulSetSpec spec;
  ReplicaStatus status;
  STASH_APIS_STRUCT(StatefulSet);
};
STASH_APIS_DECLARE_CODEC(StatefulSet);

struct DaemonSetSpec {
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  STASH_APIS_STRUCT(DaemonSetSpec);  // updateStrategy, ... in extra
};
STASH_APIS_DECLARE_CODEC(DaemonSetSpec);

struct DaemonSetStatus {
  int32_t current_number_scheduled = 0;  // these four always written, as Go
  int32_t number_misscheduled = 0;
  int32_t desired_number_scheduled = 0;
  int32_t number_ready = 0;
  int64_t observed_generation = 0;
  STASH_APIS_STRUCT(DaemonSetStatus);
};
STASH_APIS_DECLARE_CODEC(DaemonSetStatus);

struct DaemonSet {
  static const kube::Resource& Resource() { return kube::res::kDaemonSets; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  DaemonSetSpec spec;
  DaemonSetStatus status;
  STASH_APIS_STRUCT(DaemonSet);
};
STASH_APIS_DECLARE_CODEC(DaemonSet);

struct ReplicaSetSpec {
  std::optional<int32_t> replicas;
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  STASH_APIS_STRUCT(ReplicaSetSpec);
};
STASH_APIS_DECLARE_CODEC(ReplicaSetSpec);

struct ReplicaSet {
  static const kube::Resource& Resource();
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  ReplicaSetSpec spec;
  ReplicaStatus status;
  STASH_APIS_STRUCT(ReplicaSet);
};
STASH_APIS_DECLARE_CODEC(ReplicaSet);

// What the node and the operator need of any workload kind: who it is, how
// many pods it wants and their template. Built from a Deployment, StatefulSet
// or DaemonSet (a DaemonSet wants one pod: this is one node), or a Job (one
// pod at a time until it finished).
struct Workload {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  int32_t replicas = 1;
  PodTemplateSpec template_;
  // A Job's: failed pods are replaced up to backoff_limit; none once it
  // has a Complete or Failed condition.
  int32_t backoff_limit = 6;
  bool finished = false;

  static Workload Of(const Deployment& d);
  static Workload Of(const StatefulSet& s);
  static Workload Of(const DaemonSet& d);
  static Workload Of(const Job& j);
};

}  // namespace stash::apis
