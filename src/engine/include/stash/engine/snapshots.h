// Finding and presenting snapshots as restic 0.14 does: loading and filtering
// (--host/--tag/--path), resolving "latest" or an id prefix, the `snapshots`
// table, the JSON objects `snapshots --json` and `ls --json` print, and the
// "<Snapshot … at … by …>" description `restore` prints.
//
// Thread-safety: free functions; they call the Repository, which is
// thread-safe, and keep no state of their own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/snapshot.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct SnapshotFilter {
  std::vector<std::string> hosts;              // any of them (empty: all)
  std::vector<std::vector<std::string>> tags;  // any list, each list all of its tags
  std::vector<std::string> paths;              // all of them (made absolute and cleaned)
  bool empty() const { return hosts.empty() && tags.empty() && paths.empty(); }
  bool Matches(const format::Snapshot& sn) const;
};

// Splits restic's "--tag a,b" value into one tag list.
std::vector<std::string> ParseTagList(std::string_view value);

struct SnapshotEntry {
  Id id;
  format::Snapshot snapshot;
};

using WarnFn = std::function<void(const std::string&)>;

// Every snapshot that matches `filter`, oldest first. A snapshot file that
// cannot be read or parsed is reported through `warn` ("could not load
// snapshot <id>: …") and skipped, as restic does.
Result<std::vector<SnapshotEntry>> LoadSnapshots(repo::Repository& repo,
                                                 const SnapshotFilter& filter, const WarnFn& warn);

// The newest snapshot matching `filter` and not newer than `not_after`
// (nullopt when none matches), as restic 0.14's FindLatestSnapshot: every
// snapshot must be readable, since one that is not might be the newest match.
// kDataLoss "Error loading snapshot <id>: <why>" names the first (by id) that
// cannot be loaded, decrypted or decoded; nothing older is picked instead.
Result<std::optional<SnapshotEntry>> FindLatestSnapshot(
    repo::Repository& repo, const SnapshotFilter& filter,
    const std::optional<format::Timestamp>& not_after = std::nullopt);

// "latest" (FindLatestSnapshot, with the filter's paths made absolute) or a
// unique id prefix. kNotFound: "no snapshot found" / "no matching ID found
// for prefix …"; kDataLoss as FindLatestSnapshot.
Result<SnapshotEntry> FindSnapshot(repo::Repository& repo, std::string_view name,
                                   const SnapshotFilter& filter);

// Keeps the newest `n` snapshots per (host, paths) group (--latest n).
std::vector<SnapshotEntry> KeepLatestPerGroup(std::vector<SnapshotEntry> list, int n);

// restic's table ("ID  Time  Host  Tags  Paths", dashed rules, "N snapshots"),
// sorted oldest first. `compact` is --compact.
std::string SnapshotsTable(std::vector<SnapshotEntry> list, bool compact);

// The snapshot's JSON object with "id" and "short_id" appended (and
// "struct_type" when non-empty), as restic's JSON encoder writes it.
std::string SnapshotJson(const SnapshotEntry& entry, std::string_view struct_type = "");
// `snapshots --json`: a JSON array plus newline.
std::string SnapshotsJson(const std::vector<SnapshotEntry>& list);

// "<Snapshot 1a2b3c4d of [/a /b] at 2026-11-26 07:14:08.891 +0000 UTC by u@h>".
std::string DescribeSnapshot(const SnapshotEntry& entry);

// Go's time.Time.String() of a decoded timestamp ("2006-01-02 15:04:05.999999999
// -0700 MST"): UTC for Z, the local zone's abbreviation when the offset is the
// local one at that instant, else the numeric offset twice.
std::string GoTimeString(const format::Timestamp& t);
// "2006-01-02 15:04:05" in the process's local time zone.
std::string LocalTimeString(const format::Timestamp& t);

}  // namespace stash::engine
