// Stash's backup kinds (stash.appscode.com/v1beta1): BackupConfiguration,
// what to back up, where and when, and BackupSession, one run of it with the
// per-host results the sidecar writes (stash-api.md §1.3, §1.4).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/core.h"
#include "stash/apis/meta.h"
#include "stash/apis/stash_common.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct BackupTarget {
  std::string alias;  // host name of the snapshots instead of host-0
  TargetRef ref;
  std::vector<std::string> paths;
  std::vector<VolumeMount> volume_mounts;
  std::optional<int32_t> replicas;
  std::string snapshot_class_name;
  std::vector<std::string> exclude;
  std::vector<std::string> args;
  STASH_APIS_STRUCT(BackupTarget);
};
STASH_APIS_DECLARE_CODEC(BackupTarget);

struct BackupHooks {
  std::optional<Handler> pre_backup;
  std::optional<Handler> post_backup;
  STASH_APIS_STRUCT(BackupHooks);
};
STASH_APIS_DECLARE_CODEC(BackupHooks);

// kmodules' ContainerRuntimeSettings: what the executor's container gets
// (nice, ionice, probes, lifecycle and envFrom in extra).
struct ContainerRuntimeSettings {
  json resources;  // as Container::resources
  std::optional<SecurityContext> security_context;
  std::vector<EnvVar> env;
  STASH_APIS_STRUCT(ContainerRuntimeSettings);
};
STASH_APIS_DECLARE_CODEC(ContainerRuntimeSettings);

// kmodules' RuntimeSettings: pod and container settings of the executor; the
// pod's (node selector, service account, ...) are kept as written.
struct RuntimeSettings {
  json pod;
  ContainerRuntimeSettings container;
  STASH_APIS_STRUCT(RuntimeSettings);
};
STASH_APIS_DECLARE_CODEC(RuntimeSettings);

struct BackupConfigurationSpec {
  TaskRef task;
  std::optional<BackupTarget> target;
  RuntimeSettings runtime_settings;
  EmptyDirSettings temp_dir;
  std::optional<PersistentVolumeClaim> interim_volume_template;
  std::optional<BackupHooks> hooks;
  std::string schedule;
  std::string driver;  // Restic (default), VolumeSnapshotter
  ObjectRef repository;
  std::optional<RetentionPolicy> retention_policy;
  bool paused = false;
  std::optional<int32_t> backup_history_limit;  // default 1
  std::optional<std::string> time_out;          // Go duration, e.g. "2h"
  std::optional<RetryConfig> retry_config;
  STASH_APIS_STRUCT(BackupConfigurationSpec);
};
STASH_APIS_DECLARE_CODEC(BackupConfigurationSpec);

struct BackupConfigurationStatus {
  int64_t observed_generation = 0;
  std::string phase;  // Invalid, Ready, NotReady
  std::vector<Condition> conditions;
  STASH_APIS_STRUCT(BackupConfigurationStatus);
};
STASH_APIS_DECLARE_CODEC(BackupConfigurationStatus);

struct BackupConfiguration {
  static const kube::Resource& Resource() { return kube::res::kBackupConfigurations; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  BackupConfigurationSpec spec;
  BackupConfigurationStatus status;
  STASH_APIS_STRUCT(BackupConfiguration);
};
STASH_APIS_DECLARE_CODEC(BackupConfiguration);

struct BackupSessionSpec {
  TypedLocalObjectReference invoker;
  int32_t retry_left = 0;
  STASH_APIS_STRUCT(BackupSessionSpec);
};
STASH_APIS_DECLARE_CODEC(BackupSessionSpec);

struct FileStats {
  std::optional<int64_t> total_files;
  std::optional<int64_t> new_files;
  std::optional<int64_t> modified_files;
  std::optional<int64_t> unmodified_files;
  STASH_APIS_STRUCT(FileStats);
};
STASH_APIS_DECLARE_CODEC(FileStats);

struct SnapshotStats {
  std::string name;  // restic's short snapshot id
  std::string path;
  std::string total_size;
  std::string uploaded;
  std::string processing_time;
  FileStats file_stats;
  STASH_APIS_STRUCT(SnapshotStats);
};
STASH_APIS_DECLARE_CODEC(SnapshotStats);

struct HostBackupStats {
  std::string hostname;
  std::string phase;  // Succeeded, Failed
  std::vector<SnapshotStats> snapshots;
  std::string duration;
  std::string error;
  STASH_APIS_STRUCT(HostBackupStats);
};
STASH_APIS_DECLARE_CODEC(HostBackupStats);

struct BackupTargetStatus {
  TargetRef ref;
  std::optional<int32_t> total_hosts;
  std::string phase;  // Pending, Succeeded, Running, Failed
  std::vector<HostBackupStats> stats;
  std::vector<std::string> pre_backup_actions;
  std::vector<std::string> post_backup_actions;
  std::vector<Condition> conditions;
  STASH_APIS_STRUCT(BackupTargetStatus);
};
STASH_APIS_DECLARE_CODEC(BackupTargetStatus);

// A Running session's live progress (this operator's extension; gone once
// the session ends).
struct BackupSessionProgress {
  std::string percent;  // "45.10%"
  int64_t files_done = 0;
  int64_t total_files = 0;
  int64_t bytes_done = 0;
  int64_t total_bytes = 0;
  std::string rate;  // "12.500 MiB/s"
  std::string eta;   // Go duration, once the scan finished
  STASH_APIS_STRUCT(BackupSessionProgress);
};
STASH_APIS_DECLARE_CODEC(BackupSessionProgress);

struct BackupSessionStatus {
  std::string phase;  // Pending, Skipped, Running, Succeeded, Failed, Unknown
  std::string session_duration;
  std::vector<BackupTargetStatus> targets;
  std::vector<Condition> conditions;
  std::string session_deadline;
  std::optional<bool> retried;
  std::string next_retry;
  std::optional<BackupSessionProgress> progress;
  STASH_APIS_STRUCT(BackupSessionStatus);
};
STASH_APIS_DECLARE_CODEC(BackupSessionStatus);

struct BackupSession {
  static const kube::Resource& Resource() { return kube::res::kBackupSessions; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  BackupSessionSpec spec;
  BackupSessionStatus status;
  STASH_APIS_STRUCT(BackupSession);
};
STASH_APIS_DECLARE_CODEC(BackupSession);

// Succeeded, Failed, Skipped or Unknown: nothing will change the session.
bool IsFinalPhase(std::string_view phase);

// Whether `s` belongs to the invoker `kind`/`name`: by spec.invoker, or by
// the invoker-name or backup-configuration label (the guide's instant
// session, made with kubectl, carries only the latter).
bool IsSessionOf(const BackupSession& s, std::string_view kind, std::string_view name);

// The sessions of one invoker that `backupHistoryLimit` (`limit`) lets go:
// all but the newest `limit` (by creation time, then name), keeping the
// newest Succeeded/Failed one even beyond the limit (the last real run stays
// visible) and any session not yet in a final phase. Skipped sessions count
// like any other: a paused or target-less invoker would otherwise leave one
// per tick. Pure: the caller deletes. `sessions` must all be of one invoker.
std::vector<std::string> SessionsBeyondHistoryLimit(
    const std::vector<std::shared_ptr<const BackupSession>>& sessions, int64_t limit);

}  // namespace stash::apis
