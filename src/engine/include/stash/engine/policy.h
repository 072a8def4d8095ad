// Retention policy as restic 0.14 applies it (`forget --keep-*`): which
// snapshots of one group to keep, which to remove, and why. Also restic's
// grouping of snapshots (--group-by host,paths,tags) and the group key.
//
// 0.14 semantics on purpose (the version Debian ships, which BackupConfiguration
// users compare against): no "keep the oldest" rule, no unlimited (-1) counts.
// Calendar buckets use each snapshot's own recorded UTC offset, as Go does for
// a time parsed from JSON; ISO weeks for --keep-weekly. "now" is injected, so
// the result is a pure function of its inputs.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/result.h"
#include "stash/engine/snapshots.h"

namespace stash::engine {

// restic's Duration for --keep-within*: "1y5m7d2h" (any subset, any order).
struct KeepDuration {
  int years = 0;
  int months = 0;
  int days = 0;
  int hours = 0;
  bool Zero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
  // "1y5m7d2h" with zero parts left out (restic's String()).
  std::string ToString() const;
  friend bool operator==(const KeepDuration&, const KeepDuration&) = default;
};

// kInvalid with restic's wording ("no unit found after number 3", "invalid
// unit 'x' found after number 3", "no number found").
Result<KeepDuration> ParseKeepDuration(std::string_view text);

struct ExpirePolicy {
  int last = 0;
  int hourly = 0;
  int daily = 0;
  int weekly = 0;
  int monthly = 0;
  int yearly = 0;
  KeepDuration within;
  KeepDuration within_hourly;
  KeepDuration within_daily;
  KeepDuration within_weekly;
  KeepDuration within_monthly;
  KeepDuration within_yearly;
  // --keep-tag lists: a snapshot with all tags of any one list is kept.
  std::vector<std::vector<std::string>> tags;

  // No rule at all: restic then keeps everything and prints a notice. A
  // negative count makes the policy non-empty (as reflect.DeepEqual does in
  // restic) but keeps nothing by itself.
  bool Empty() const;
  // "keep 2 latest, 1 daily snapshots and all snapshots within 1d of the
  // newest", restic's ExpirePolicy.String().
  std::string ToString() const;
};

struct KeepCounters {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
};

struct KeepReason {
  SnapshotEntry entry;
  std::vector<std::string> matches;  // "last snapshot", "daily snapshot", "within 1d", ...
  KeepCounters counters;             // the counts left after this snapshot
};

struct PolicyResult {
  std::vector<SnapshotEntry> keep;    // newest first
  std::vector<SnapshotEntry> remove;  // newest first
  std::vector<KeepReason> reasons;    // parallel to keep
};

// Applies `policy` to one group. `now` only bounds "latest" (a snapshot dated
// in the future does not count as the newest for --keep-within*).
PolicyResult ApplyPolicy(std::vector<SnapshotEntry> list, const ExpirePolicy& policy,
                         SystemTime now);

// --group-by: any of host(s), path(s), tag(s), comma separated; "" = none.
struct GroupBy {
  bool host = false;
  bool paths = false;
  bool tags = false;
};
// kInvalid "unknown grouping option: 'x'".
Result<GroupBy> ParseGroupBy(std::string_view text);

struct SnapshotGroup {
  // The key's fields; a field not grouped by stays empty and is JSON null.
  std::string hostname;
  std::vector<std::string> paths;  // sorted
  std::vector<std::string> tags;   // sorted
  bool has_paths = false;          // grouped by paths (JSON array, not null)
  bool has_tags = false;           // grouped by tags and the snapshots have tags
  // The key as restic marshals it: {"hostname":..,"paths":..,"tags":..}.
  std::string key_json;
  std::vector<SnapshotEntry> snapshots;
};

// Splits `list` into groups. Paths of every snapshot are sorted (and tags when
// grouping by tags), as restic sorts them in place, so they print that way.
// Groups come out ordered by key (restic iterates a Go map: random order).
std::vector<SnapshotGroup> GroupSnapshots(std::vector<SnapshotEntry> list, const GroupBy& by);

}  // namespace stash::engine
