// Restore by Stash's rules (stash-api.md §1.5, §4): which snapshots one host
// of a RestoreSession gets, and restoring them in-process with the Restorer,
// as Stash's init container or restore Job runs `restic restore` once per
// snapshot.
//
//   STASH_RETURN_IF_ERROR(ValidateRestoreRules(rules));          // → Invalid
//   std::string host = StashHostName("StatefulSet", "db-2", node);  // "host-2"
//   HostRestoreOptions opts{.clock = &clock, .path_map = map};
//   STASH_ASSIGN_OR_RETURN(HostRestoreResult r, RestoreHost(repo, rules, host, opts));
//
// Rule selection (Stash's RestoreOptionsForHost): the first rule whose
// targetHosts names the host, else the rule without targetHosts; no rules at
// all means "the latest snapshot of this host". A rule's `snapshots` are
// restored as they are (host and paths do not matter), its `paths` each as
// the latest snapshot of the source host holding that path; a rule with
// neither restores the latest snapshot of the source host. `sourceHost`
// defaults to the host itself. include/exclude apply to every snapshot.
//
// Thread-safety: free functions over a thread-safe Repository; no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/result.h"
#include "stash/engine/path_map.h"
#include "stash/engine/restore.h"
#include "stash/engine/snapshots.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct RestoreRule {
  std::vector<std::string> target_hosts;
  std::string source_host;
  std::vector<std::string> snapshots;  // ids or unique prefixes
  std::vector<std::string> paths;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

// The rules of any struct with Stash's Rule members (target_hosts,
// source_host, snapshots, paths, include, exclude), e.g. the typed API's.
template <class R>
std::vector<RestoreRule> RulesFrom(const std::vector<R>& rules) {
  std::vector<RestoreRule> out;
  out.reserve(rules.size());
  for (const R& r : rules) {
    out.push_back({r.target_hosts, r.source_host, r.snapshots, r.paths, r.include, r.exclude});
  }
  return out;
}

// Stash's validation of a RestoreSession's rules: at most one rule without
// targetHosts, no host in the targetHosts of two rules, `snapshots` and
// `paths` not in the same rule; patterns must parse, and include and exclude
// are not combined (restic refuses both). kInvalid names the rule (by
// position, from 1) and the problem.
Status ValidateRestoreRules(const std::vector<RestoreRule>& rules);

// The rule that applies to `host` (see above); nullopt when rules exist and
// none applies: the host is not restored.
std::optional<RestoreRule> RuleForHost(const std::vector<RestoreRule>& rules,
                                       std::string_view host);

// The host name Stash gives a pod's backups and restores: "host-<ordinal>"
// for a StatefulSet's pod "<name>-<ordinal>", the node's name for a
// DaemonSet's, "host-0" for everything else (Deployment replicas share one).
std::string StashHostName(std::string_view target_kind, std::string_view pod_name,
                          std::string_view node_name);

// One snapshot to restore, with what selected it (for messages).
struct PlannedSnapshot {
  SnapshotEntry snapshot;
  std::string selected_by;  // `snapshot 1a2b3c4d` or `latest snapshot of /data from host-0`
};

// The snapshots `rule` restores on `host`, in the rule's order. kNotFound
// names the missing snapshot id, or the path and source host without one.
Result<std::vector<PlannedSnapshot>> PlanHostRestore(repo::Repository& repo,
                                                     const RestoreRule& rule,
                                                     std::string_view host);

struct HostRestoreOptions {
  Clock* clock = nullptr;  // required: the repository lock's refresh timer
  // The container's mounts on this host (embedded node); empty: restore to
  // `target` as given (inside a real pod, "/").
  PathMap path_map;
  std::string target = "/";
  int workers = 0;  // 0: the Restorer's default
};

struct HostRestoreResult {
  bool selected = true;  // false: no rule applies to the host, nothing done
  std::vector<PlannedSnapshot> restored;
  RestoreStats stats;  // summed over the snapshots
};

// Validates nothing (call ValidateRestoreRules first); picks the host's rule,
// plans, loads the index and restores each snapshot under a shared lock (as
// `restic restore`). A snapshot that cannot be found, or any file that could
// not be restored, fails the whole host with a message naming the first
// problems and how many there were.
Result<HostRestoreResult> RestoreHost(repo::Repository& repo, const std::vector<RestoreRule>& rules,
                                      std::string_view host, const HostRestoreOptions& opts);

}  // namespace stash::engine
