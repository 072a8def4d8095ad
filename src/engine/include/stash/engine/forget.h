// `forget`: choosing snapshots to remove (by policy per group, or by explicit
// ids), presenting the decision as restic 0.14 does (text tables with reasons,
// --json groups), and deleting the snapshot files.
//
//   STASH_ASSIGN_OR_RETURN(ForgetPlan plan, PlanForget(repo, request, clock.Now(), warn));
//   std::cout << (json ? ForgetJson(plan) : ForgetText(plan, verbose));
//   if (!dry_run) STASH_RETURN_IF_ERROR(RemoveSnapshots(repo, plan.remove));
//
// Thread-safety: free functions over a thread-safe Repository; no state.
#pragma once

#include <string>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/engine/policy.h"
#include "stash/engine/snapshots.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct ForgetRequest {
  ExpirePolicy policy;
  GroupBy group_by{true, true, false};
  SnapshotFilter filter;
  // Explicit snapshot ids (prefixes or "latest"): removed without a policy.
  std::vector<std::string> ids;
};

struct ForgetGroupResult {
  SnapshotGroup group;  // key fields (snapshots moved into the result)
  PolicyResult result;
};

struct ForgetPlan {
  bool policy_applied = false;  // false: explicit ids, or an empty policy
  std::string policy_text;      // "keep 3 latest snapshots"
  std::vector<ForgetGroupResult> groups;
  std::vector<Id> remove;  // sorted, unique
};

// Loads the snapshots and decides. Snapshots that cannot be read and ids that
// do not resolve are reported through `warn` and skipped, as restic does.
Result<ForgetPlan> PlanForget(repo::Repository& repo, const ForgetRequest& request, SystemTime now,
                              const WarnFn& warn);

// restic's `forget --json`: an array of {tags, host, paths, keep, remove,
// reasons} plus newline; empty when no policy was applied.
std::string ForgetJson(const ForgetPlan& plan);

// The text restic prints: "Applying Policy: …", then per group a header (only
// with -v, `verbose` >= 1), the "keep N snapshots:" table with reasons and the
// "remove N snapshots:" table. `quiet` (-q) prints nothing.
std::string ForgetText(const ForgetPlan& plan, int verbose, bool quiet, bool compact);

// "{1a2b3c4d 5e6f7a8b}" (restic's IDSet formatting: sorted short ids).
std::string ShortIdSet(const std::vector<Id>& ids);

// Deletes snapshots/<id> for each id. Stops at the first failure, naming it.
Status RemoveSnapshots(repo::Repository& repo, const std::vector<Id>& ids);

}  // namespace stash::engine
