#include "stash/engine/snapshots.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include "snapshots_table.h"
#include "stash/engine/filter.h"

namespace stash::engine {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool HasTags(const format::Snapshot& sn, const std::vector<std::string>& tags) {
  for (const std::string& tag : tags) {
    if (tag.empty() && sn.tags.empty()) return true;
    if (!Contains(sn.tags, tag)) return false;
  }
  return true;
}

std::string AbsPath(const std::string& p) {
  if (!p.empty() && p[0] == '/') return GoPathClean(p);
  char buf[PATH_MAX];
  std::string cwd = getcwd(buf, sizeof buf) ? buf : "/";
  return GoPathClean(cwd + "/" + p);
}

std::string Pad2(int v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

std::string FormatTm(const struct tm& tm) {
  return std::to_string(tm.tm_year + 1900) + "-" + Pad2(tm.tm_mon + 1) + "-" + Pad2(tm.tm_mday) +
         " " + Pad2(tm.tm_hour) + ":" + Pad2(tm.tm_min) + ":" + Pad2(tm.tm_sec);
}

std::string NumericZone(int32_t offset) {
  char sign = offset < 0 ? '-' : '+';
  int32_t a = offset < 0 ? -offset : offset;
  return std::string(1, sign) + Pad2(a / 3600) + Pad2(a / 60 % 60);
}

bool SnapshotBefore(const SnapshotEntry& a, const SnapshotEntry& b) {
  return format::Before(a.snapshot.time, b.snapshot.time);
}

}  // namespace

bool SnapshotFilter::Matches(const format::Snapshot& sn) const {
  if (!hosts.empty() && !Contains(hosts, sn.hostname)) return false;
  if (!tags.empty()) {
    bool any = false;
    for (const auto& list : tags) any = any || HasTags(sn, list);
    if (!any) return false;
  }
  for (const std::string& p : paths) {
    if (!Contains(sn.paths, p)) return false;
  }
  return true;
}

std::vector<std::string> ParseTagList(std::string_view value) {
  std::vector<std::string> tags;
  size_t start = 0;
  for (;;) {
    size_t comma = value.find(',', start);
    std::string_view tag = value.substr(start, comma == value.npos ? value.npos : comma - start);
    // restic trims spaces and drops empty entries of a list.
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (!tag.empty()) tags.emplace_back(tag);
    if (comma == value.npos) break;
    start = comma + 1;
  }
  return tags;
}

namespace {

// Every snapshot file, loaded in parallel: entries[i] or errors[i] for ids[i].
struct LoadedSnapshots {
  std::vector<Id> ids;
  std::vector<std::optional<SnapshotEntry>> entries;
  std::vector<std::string> errors;
};

Result<LoadedSnapshots> LoadAll(repo::Repository& repo) {
  LoadedSnapshots out;
  STASH_ASSIGN_OR_RETURN(out.ids, repo.ListIds(backend::FileType::kSnapshot));
  const std::vector<Id>& ids = out.ids;
  out.entries.resize(ids.size());
  out.errors.resize(ids.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < ids.size();) {
      auto json = repo.LoadUnpacked(backend::FileType::kSnapshot, ids[i]);
      if (!json.ok()) {
        out.errors[i] = json.status().message();
        continue;
      }
      auto sn = format::DecodeSnapshot(*json);
      if (!sn.ok()) {
        out.errors[i] = sn.status().message();
        continue;
      }
      out.entries[i] = SnapshotEntry{ids[i], std::move(*sn)};
    }
  };
  size_t nthreads = std::min<size_t>(ids.size(), 8);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return out;
}

}  // namespace

Result<std::vector<SnapshotEntry>> LoadSnapshots(repo::Repository& repo,
                                                 const SnapshotFilter& filter, const WarnFn& warn) {
  STASH_ASSIGN_OR_RETURN(LoadedSnapshots loaded, LoadAll(repo));
  std::vector<SnapshotEntry> out;
  for (size_t i = 0; i < loaded.ids.size(); ++i) {
    if (!loaded.entries[i]) {
      if (warn)
        warn("could not load snapshot " + loaded.ids[i].ShortHex() + ": " + loaded.errors[i]);
      continue;
    }
    if (filter.Matches(loaded.entries[i]->snapshot)) out.push_back(std::move(*loaded.entries[i]));
  }
  std::stable_sort(out.begin(), out.end(), SnapshotBefore);
  return out;
}

Result<std::optional<SnapshotEntry>> FindLatestSnapshot(
    repo::Repository& repo, const SnapshotFilter& filter,
    const std::optional<format::Timestamp>& not_after) {
  STASH_ASSIGN_OR_RETURN(LoadedSnapshots loaded, LoadAll(repo));
  std::optional<SnapshotEntry> latest;
  for (size_t i = 0; i < loaded.ids.size(); ++i) {
    if (!loaded.entries[i]) {
      return DataLossError("Error loading snapshot " + loaded.ids[i].ShortHex() + ": " +
                           loaded.errors[i]);
    }
  }
  for (size_t i = 0; i < loaded.ids.size(); ++i) {
    SnapshotEntry& e = *loaded.entries[i];
    if (!filter.Matches(e.snapshot)) continue;
    if (not_after && format::Before(*not_after, e.snapshot.time)) continue;
    // Ties go to the last one seen, as restic's "not before" comparison.
    if (!latest || !format::Before(e.snapshot.time, latest->snapshot.time)) latest = std::move(e);
  }
  return latest;
}

Result<SnapshotEntry> FindSnapshot(repo::Repository& repo, std::string_view name,
                                   const SnapshotFilter& filter) {
  if (name == "latest") {
    SnapshotFilter abs = filter;
    for (std::string& p : abs.paths) p = AbsPath(p);
    STASH_ASSIGN_OR_RETURN(std::optional<SnapshotEntry> latest, FindLatestSnapshot(repo, abs));
    if (!latest) return NotFoundError("no snapshot found");
    return std::move(*latest);
  }
  STASH_ASSIGN_OR_RETURN(Id id, repo.ResolvePrefix(backend::FileType::kSnapshot, name));
  STASH_ASSIGN_OR_RETURN(std::string json, repo.LoadUnpacked(backend::FileType::kSnapshot, id));
  auto sn = format::DecodeSnapshot(json);
  if (!sn.ok()) {
    return Status(sn.status()).Prepend("snapshot " + id.ShortHex());
  }
  return SnapshotEntry{id, std::move(*sn)};
}

std::vector<SnapshotEntry> KeepLatestPerGroup(std::vector<SnapshotEntry> list, int n) {
  std::stable_sort(list.begin(), list.end(), [](const SnapshotEntry& a, const SnapshotEntry& b) {
    return SnapshotBefore(b, a);
  });
  std::map<std::pair<std::string, std::string>, int> seen;
  std::vector<SnapshotEntry> out;
  for (SnapshotEntry& e : list) {
    std::vector<std::string> paths = e.snapshot.paths;
    std::sort(paths.begin(), paths.end());
    std::string joined;
    for (size_t i = 0; i < paths.size(); ++i) joined += (i ? "|" : "") + paths[i];
    int& count = seen[{e.snapshot.hostname, joined}];
    if (count < n) {
      ++count;
      out.push_back(std::move(e));
    }
  }
  std::stable_sort(out.begin(), out.end(), SnapshotBefore);
  return out;
}

std::string SnapshotsTable(std::vector<SnapshotEntry> list, bool compact) {
  std::stable_sort(list.begin(), list.end(), SnapshotBefore);
  TextTable table;
  table.AddColumn("ID");
  table.AddColumn("Time");
  bool multiline = false;
  if (compact) {
    table.AddColumn("Host");
    table.AddColumn("Tags  ");
  } else {
    table.AddColumn("Host      ");
    table.AddColumn("Tags      ");
    table.AddColumn("Paths");
  }
  for (const SnapshotEntry& e : list) {
    const format::Snapshot& sn = e.snapshot;
    std::string tags;
    for (size_t i = 0; i < sn.tags.size(); ++i)
      tags += (i ? (compact ? "\n" : ",") : "") + sn.tags[i];
    std::vector<std::string> row = {e.id.ShortHex(), LocalTimeString(sn.time), sn.hostname, tags};
    if (!compact) {
      std::string paths;
      for (size_t i = 0; i < sn.paths.size(); ++i) paths += (i ? "\n" : "") + sn.paths[i];
      row.push_back(paths);
      if (sn.paths.size() > 1) multiline = true;
    }
    table.AddRow(std::move(row));
  }
  table.AddFooter(std::to_string(list.size()) + " snapshots");
  // With multi-path snapshots restic separates rows by a blank line.
  table.set_blank_line_between_rows(multiline);
  return table.Render();
}

std::string SnapshotJson(const SnapshotEntry& entry, std::string_view struct_type) {
  std::string json = format::EncodeSnapshot(entry.snapshot);
  json.pop_back();  // the closing brace
  json += ",\"id\":\"" + entry.id.Hex() + "\",\"short_id\":\"" + entry.id.ShortHex() + "\"";
  if (!struct_type.empty()) json += ",\"struct_type\":\"" + std::string(struct_type) + "\"";
  json += "}";
  return json;
}

std::string SnapshotsJson(const std::vector<SnapshotEntry>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ",";
    out += SnapshotJson(list[i]);
  }
  return out + "]\n";
}

std::string DescribeSnapshot(const SnapshotEntry& entry) {
  const format::Snapshot& sn = entry.snapshot;
  std::string paths = "[";
  for (size_t i = 0; i < sn.paths.size(); ++i) paths += (i ? " " : "") + sn.paths[i];
  paths += "]";
  return "<Snapshot " + entry.id.ShortHex() + " of " + paths + " at " + GoTimeString(sn.time) +
         " by " + sn.username + "@" + sn.hostname + ">";
}

std::string GoTimeString(const format::Timestamp& t) {
  time_t shifted = static_cast<time_t>(t.unix_sec + t.utc_offset_sec);
  struct tm tm {};
  gmtime_r(&shifted, &tm);
  std::string s = FormatTm(tm);
  if (t.nsec != 0) {
    std::string frac = std::to_string(t.nsec);
    frac.insert(0, 9 - frac.size(), '0');
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  // Go decodes "Z" as UTC; another offset as the local zone when it is the
  // local offset at that instant, else as a nameless fixed zone.
  std::string zone = "UTC";
  if (t.utc_offset_sec != 0) {
    struct tm local {};
    time_t secs = static_cast<time_t>(t.unix_sec);
    localtime_r(&secs, &local);
    zone = local.tm_gmtoff == t.utc_offset_sec && local.tm_zone ? std::string(local.tm_zone)
                                                                : NumericZone(t.utc_offset_sec);
  }
  return s + " " + NumericZone(t.utc_offset_sec) + " " + zone;
}

std::string LocalTimeString(const format::Timestamp& t) {
  time_t secs = static_cast<time_t>(t.unix_sec);
  struct tm tm {};
  localtime_r(&secs, &tm);
  return FormatTm(tm);
}

}  // namespace stash::engine
