// Stash's RestoreSession (stash.appscode.com/v1beta1): which snapshots of a
// Repository go into which target, host by host (rules), with hooks and a
// time limit, and the per-host status of the run (stash-api.md §1.5, §4).
// Every field of Stash's v1beta1 type is here; RestoreSession has no retry
// settings in Stash (only BackupConfiguration has retryConfig).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/backup.h"
#include "stash/apis/codec.h"
#include "stash/apis/core.h"
#include "stash/apis/meta.h"
#include "stash/apis/stash_common.h"
#include "stash/kube/client.h"

namespace stash::apis {

// Which snapshots a host restores: `snapshots` (ids) or the latest of each
// of `paths` from `sourceHost` (default: the host itself); the first rule
// whose targetHosts names the host wins, else the one without targetHosts.
struct Rule {
  std::vector<std::string> target_hosts;
  std::string source_host;
  std::vector<std::string> snapshots;
  std::vector<std::string> paths;
  std::vector<std::string> exclude;
  std::vector<std::string> include;
  STASH_APIS_STRUCT(Rule);
};
STASH_APIS_DECLARE_CODEC(Rule);

struct RestoreTarget {
  std::string alias;
  TargetRef ref;
  std::vector<VolumeMount> volume_mounts;
  std::optional<int32_t> replicas;
  std::vector<PersistentVolumeClaim> volume_claim_templates;
  std::vector<Rule> rules;
  std::vector<std::string> args;
  STASH_APIS_STRUCT(RestoreTarget);
};
STASH_APIS_DECLARE_CODEC(RestoreTarget);

struct RestoreHooks {
  std::optional<Handler> pre_restore;
  std::optional<Handler> post_restore;  // executionPolicy: Always, OnFailure, OnSuccess
  STASH_APIS_STRUCT(RestoreHooks);
};
STASH_APIS_DECLARE_CODEC(RestoreHooks);

struct RestoreSessionSpec {
  TaskRef task;
  std::optional<RestoreTarget> target;
  RuntimeSettings runtime_settings;
  EmptyDirSettings temp_dir;
  std::optional<PersistentVolumeClaim> interim_volume_template;
  std::optional<RestoreHooks> hooks;
  std::string driver;  // Restic (default), VolumeSnapshotter
  ObjectRef repository;
  std::vector<Rule> rules;  // deprecated: target.rules
  std::string time_out;     // Go duration
  STASH_APIS_STRUCT(RestoreSessionSpec);
};
STASH_APIS_DECLARE_CODEC(RestoreSessionSpec);

struct HostRestoreStats {
  std::string hostname;
  std::string phase;  // Succeeded, Failed, Running, Unknown
  std::string duration;
  std::string error;
  STASH_APIS_STRUCT(HostRestoreStats);
};
STASH_APIS_DECLARE_CODEC(HostRestoreStats);

struct RestoreSessionStatus {
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown, Invalid
  std::optional<int32_t> total_hosts;
  std::string session_duration;
  std::vector<HostRestoreStats> stats;
  std::vector<Condition> conditions;
  std::string session_deadline;
  STASH_APIS_STRUCT(RestoreSessionStatus);
};
STASH_APIS_DECLARE_CODEC(RestoreSessionStatus);

struct RestoreSession {
  static const kube::Resource& Resource() { return kube::res::kRestoreSessions; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  RestoreSessionSpec spec;
  RestoreSessionStatus status;
  STASH_APIS_STRUCT(RestoreSession);
};
STASH_APIS_DECLARE_CODEC(RestoreSession);

}  // namespace stash::apis
