// Parts the Stash kinds (stash.appscode.com) share: references to the target
// and the repository, Task references, hooks (kmodules' prober Handler), the
// temp-dir and retry settings, and the retention policy.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/core.h"

namespace stash::apis {

// kmodules' ObjectReference: a Repository by name (namespace defaults to the
// referring object's).
struct ObjectRef {
  std::string namespace_;
  std::string name;
  STASH_APIS_STRUCT(ObjectRef);
};
STASH_APIS_DECLARE_CODEC(ObjectRef);

// A backup or restore target: the workload (or PVC, AppBinding) by kind.
struct TargetRef {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string namespace_;
  STASH_APIS_STRUCT(TargetRef);
};
STASH_APIS_DECLARE_CODEC(TargetRef);

// BackupSession.spec.invoker.
struct TypedLocalObjectReference {
  std::string api_group;
  std::string kind;
  std::string name;
  STASH_APIS_STRUCT(TypedLocalObjectReference);
};
STASH_APIS_DECLARE_CODEC(TypedLocalObjectReference);

// kmodules' TypedObjectReference (Repository.status.references).
struct TypedObjectReference {
  std::string api_group;
  std::string kind;
  std::string namespace_;
  std::string name;
  STASH_APIS_STRUCT(TypedObjectReference);
};
STASH_APIS_DECLARE_CODEC(TypedObjectReference);

struct Param {
  std::string name;
  std::string value;
  STASH_APIS_STRUCT(Param);
};
STASH_APIS_DECLARE_CODEC(Param);

struct TaskRef {
  std::string name;
  std::vector<Param> params;
  STASH_APIS_STRUCT(TaskRef);
};
STASH_APIS_DECLARE_CODEC(TaskRef);

// kmodules' prober Handler, plus the executionPolicy of post hooks (Always,
// OnFailure, OnSuccess; backups also OnFinalRetryFailure).
struct Handler {
  std::optional<ExecAction> exec;
  std::optional<HTTPAction> http_get;
  std::optional<HTTPAction> http_post;
  std::optional<TCPSocketAction> tcp_socket;
  std::string container_name;
  std::string execution_policy;
  STASH_APIS_STRUCT(Handler);
};
STASH_APIS_DECLARE_CODEC(Handler);

struct EmptyDirSettings {
  std::string medium;
  json size_limit;  // quantity
  bool disable_caching = false;
  STASH_APIS_STRUCT(EmptyDirSettings);
};
STASH_APIS_DECLARE_CODEC(EmptyDirSettings);

struct RetryConfig {
  std::optional<int32_t> max_retry;  // Stash defaults it to 1
  std::string delay;                 // Go duration
  STASH_APIS_STRUCT(RetryConfig);
};
STASH_APIS_DECLARE_CODEC(RetryConfig);

// Which snapshots to keep (restic forget --keep-*); a zero count is unset.
struct RetentionPolicy {
  std::string name;
  int64_t keep_last = 0;
  int64_t keep_hourly = 0;
  int64_t keep_daily = 0;
  int64_t keep_weekly = 0;
  int64_t keep_monthly = 0;
  int64_t keep_yearly = 0;
  std::vector<std::string> keep_tags;
  bool prune = false;
  bool dry_run = false;
  STASH_APIS_STRUCT(RetentionPolicy);
};
STASH_APIS_DECLARE_CODEC(RetentionPolicy);

}  // namespace stash::apis
