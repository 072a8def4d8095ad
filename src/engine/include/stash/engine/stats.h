// `stats`: restic 0.14's statistics over a set of snapshots, in its four
// counting modes, and its text and --json renderings.
//
//   auto mode = ParseStatsMode("raw-data");
//   auto stats = ComputeStats(repo, *mode, snapshots);   // index loaded
//   std::cout << StatsJson(*stats);
//
// Modes, as restic 0.14 counts them:
// - restore-size: every node of every snapshot (dirs and links too) counts as
//   a file; sizes add up once per inode per snapshot (hard links count once).
// - files-by-contents: one file per distinct content (the list of blob ids;
//   every node without content shares one), its size counted once.
// - raw-data: the distinct blobs (trees and data) the snapshots reference,
//   with their stored (compressed, encrypted) size in the packs.
// - blobs-per-file: for each distinct content, the blobs of the first file
//   that had it, counted once per file path, with their plaintext size.
//
// Thread-safety: free functions; they call the (thread-safe) Repository and
// keep no state of their own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"
#include "stash/engine/snapshots.h"
#include "stash/repo/repository.h"

namespace stash::engine {

enum class StatsMode { kRestoreSize, kFilesByContents, kRawData, kBlobsPerFile };

// "restore-size", "files-by-contents", "raw-data" or "blobs-per-file"; kInvalid
// with restic's message otherwise.
Result<StatsMode> ParseStatsMode(std::string_view name);
std::string_view StatsModeName(StatsMode mode);

// restic's statsContainer.
struct RepoStats {
  uint64_t total_size = 0;
  uint64_t total_file_count = 0;
  uint64_t total_blob_count = 0;
  uint64_t snapshots_count = 0;
};

// Walks `snapshots` (the repository's index must be loaded). Fails on a tree
// that cannot be loaded or a referenced blob the index does not know
// ("blob <data/1a2b3c4d> not found"): the numbers would be wrong.
Result<RepoStats> ComputeStats(repo::Repository& repo, StatsMode mode,
                               const std::vector<SnapshotEntry>& snapshots);

// `stats --json`: {"total_size":…,"total_file_count":…[,"total_blob_count":…],
// "snapshots_count":…} and a newline (the blob count only when non-zero).
std::string StatsJson(const RepoStats& stats);

// The text restic prints after "scanning...": "Stats in <mode> mode:",
// "Snapshots processed:", blob and file counts when non-zero, "Total Size:".
std::string StatsText(const RepoStats& stats, StatsMode mode);

}  // namespace stash::engine
