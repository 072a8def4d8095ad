// `prune`: removes data no snapshot references, with restic 0.14's algorithm
// (cmd/restic/cmd_prune.go) so both tools reclaim about the same space:
//
//   1. used blobs = every blob reachable from a snapshot tree (snapshots in
//      `ignore_snapshots` — just forgotten in a dry run — do not count);
//   2. per pack: used / unused / duplicate sizes from the index;
//   3. unindexed packs are removed first; packs without used blobs removed;
//      mixed, tree or uncompressed-tree packs and (≥10) tiny packs repacked;
//      partly used data packs repacked, most-wasteful first, until the unused
//      space left is under --max-unused (5% of the used size by default);
//   4. execute in a crash-safe order: copy kept blobs of repacked packs into
//      new packs, write a new index, delete the old index files, then delete
//      the packs. A prune killed at any point leaves a repository `restic
//      check` accepts (at worst with unreferenced packs the next prune removes).
//
// Copying (Repository::Repack) and the new index (Repository::RebuildIndex)
// are the repository's: it verifies each kept blob, copies it sealed as it is
// or compresses it where restic's packer would. The caller holds an
// exclusive lock.
//
// Thread-safety: free functions over a thread-safe Repository; no state.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/repo/repository.h"

namespace stash::engine {

// --max-unused: "5%", "unlimited", or a size ("100M").
struct MaxUnused {
  bool unlimited = false;
  std::optional<double> percent;
  uint64_t bytes = 0;
  // Unused bytes tolerated after pruning, for `used` bytes in use.
  uint64_t Limit(uint64_t used) const;
};
Result<MaxUnused> ParseMaxUnused(std::string_view text);
// restic's parseSizeStr: a number with an optional k/K m/M g/G t/T suffix.
Result<uint64_t> ParseSize(std::string_view text);

struct PruneOptions {
  MaxUnused max_unused{false, 5.0, 0};
  uint64_t max_repack_bytes = std::numeric_limits<uint64_t>::max();
  bool repack_cacheable_only = false;
  bool repack_small = false;
  bool repack_uncompressed = false;
};

struct PruneStats {
  struct {
    uint64_t used = 0, duplicate = 0, unused = 0, remove = 0, repack = 0, repackrm = 0;
  } blobs;
  struct {
    uint64_t used = 0, duplicate = 0, unused = 0, remove = 0, repack = 0, repackrm = 0, unref = 0;
  } size;
  struct {
    uint64_t used = 0, unused = 0, partly_used = 0, unref = 0, keep = 0, repack = 0, remove = 0;
  } packs;
  // Bytes the prune frees (removed + repacked away + unreferenced).
  uint64_t ReclaimedBytes() const { return size.remove + size.repackrm + size.unref; }
};

struct BlobKey {
  Id id;
  repo::BlobKind kind;
  friend auto operator<=>(const BlobKey&, const BlobKey&) = default;
};

// restic's FindUsedBlobs: adds to *used every tree reachable from `roots`
// and the data blobs of their files (used by prune and `stats --mode
// raw-data`). Trees already in *used are not loaded again. Trees load on as
// many threads as the backend has connections, since on a remote store each
// load is a round trip. Fails with the first tree that cannot be loaded.
Status FindUsedBlobs(repo::Repository& repo, const std::vector<Id>& roots, std::set<BlobKey>* used);

struct PrunePlan {
  std::set<Id> remove_packs_first;  // not in any index
  std::set<Id> repack_packs;
  std::set<Id> remove_packs;
  std::set<Id> ignore_packs;     // missing from storage and unneeded
  std::set<BlobKey> keep_blobs;  // to copy out of repack_packs
  PruneStats stats;
};

using PruneLog = std::function<void(int level, const std::string& line)>;

// Steps 1–3. Needs the index loaded. kDataLoss when a used blob is missing
// from the index or a needed pack is missing or has the wrong size.
Result<PrunePlan> PlanPrune(repo::Repository& repo, const PruneOptions& opts,
                            const std::set<Id>& ignore_snapshots, const PruneLog& log);

// restic's statistics block; `verbose` as restic's -v count (lines restic
// prints only with -v need verbose >= 1).
std::string PruneStatsText(const PruneStats& stats, int verbose);

// Step 4.
Status ExecutePrune(repo::Repository& repo, PrunePlan plan, const PruneLog& log);

}  // namespace stash::engine
