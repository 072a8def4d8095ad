// Snapshot: the document in snapshots/<id> that names a root tree and says
// when, where and by whom a backup was taken (restic's Snapshot struct).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/time.h"

namespace stash::format {

// Backup statistics, written by restic 0.17+ only. Kept so a snapshot read
// from a newer restic re-encodes without losing them.
struct SnapshotSummary {
  Timestamp backup_start;
  Timestamp backup_end;
  uint64_t files_new = 0;
  uint64_t files_changed = 0;
  uint64_t files_unmodified = 0;
  uint64_t dirs_new = 0;
  uint64_t dirs_changed = 0;
  uint64_t dirs_unmodified = 0;
  uint64_t data_blobs = 0;
  uint64_t tree_blobs = 0;
  uint64_t data_added = 0;
  uint64_t data_added_packed = 0;
  uint64_t total_files_processed = 0;
  uint64_t total_bytes_processed = 0;
  friend bool operator==(const SnapshotSummary&, const SnapshotSummary&) = default;
};

struct Snapshot {
  Timestamp time;
  std::optional<Id> parent;
  Id tree;
  std::vector<std::string> paths;  // absolute
  std::string hostname;
  std::string username;
  uint32_t uid = 0;  // omitted when 0
  uint32_t gid = 0;
  std::vector<std::string> excludes;
  std::vector<std::string> tags;
  std::optional<Id> original;  // the first snapshot's id after a rewrite
  // restic 0.16+ writes e.g. "restic 0.16.0"; 0.14 does not. Written only when
  // non-empty, so stash leaves it empty and a decoded value round-trips.
  std::string program_version;
  std::optional<SnapshotSummary> summary;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// Compact JSON in restic's field order, no trailing newline (json.Marshal):
// time, parent?, tree, paths, hostname?, username?, uid?, gid?, excludes?,
// tags?, original?, program_version?, summary?.
std::string EncodeSnapshot(const Snapshot& snapshot);
// kInvalid on malformed JSON, wrong field types, or a missing tree.
Result<Snapshot> DecodeSnapshot(std::string_view json);

}  // namespace stash::format
