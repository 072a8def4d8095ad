#include "stash/engine/forget.h"

#include <algorithm>
#include <map>
#include <set>

#include "snapshots_table.h"
#include "stash/format/gojson.h"

namespace stash::engine {

namespace {

void WriteStringList(format::GoJsonWriter& w, bool present, const std::vector<std::string>& v) {
  if (!present) return w.Null();
  w.BeginArray();
  for (const std::string& s : v) w.String(s);
  w.EndArray();
}

void WriteSnapshotList(format::GoJsonWriter& w, const std::vector<SnapshotEntry>& list) {
  if (list.empty()) return w.Null();
  w.BeginArray();
  for (const SnapshotEntry& e : list) w.Raw(SnapshotJson(e));
  w.EndArray();
}

void WriteReasons(format::GoJsonWriter& w, const std::vector<KeepReason>& reasons) {
  if (reasons.empty()) return w.Null();
  w.BeginArray();
  for (const KeepReason& r : reasons) {
    w.BeginObject();
    w.Key("snapshot");
    w.Raw(format::EncodeSnapshot(r.entry.snapshot));
    w.Key("matches");
    WriteStringList(w, !r.matches.empty(), r.matches);
    w.Key("counters");
    w.BeginObject();
    const std::pair<const char*, int> counters[] = {
        {"last", r.counters.last},       {"hourly", r.counters.hourly},
        {"daily", r.counters.daily},     {"weekly", r.counters.weekly},
        {"monthly", r.counters.monthly}, {"yearly", r.counters.yearly}};
    for (const auto& [name, value] : counters) {
      if (value == 0) continue;  // omitempty
      w.Key(name);
      w.Int(value);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// restic's PrintSnapshots: oldest first, a Reasons column for kept ones.
std::string SnapshotTable(std::vector<SnapshotEntry> list, const std::vector<KeepReason>* reasons,
                          bool compact) {
  std::map<Id, std::vector<std::string>> why;
  if (reasons != nullptr) {
    for (const KeepReason& r : *reasons) why[r.entry.id] = r.matches;
  }
  std::stable_sort(list.begin(), list.end(), [](const SnapshotEntry& a, const SnapshotEntry& b) {
    return format::Before(a.snapshot.time, b.snapshot.time);
  });
  const bool with_reasons = reasons != nullptr && !reasons->empty();
  TextTable t;
  t.AddColumn("ID");
  t.AddColumn("Time");
  if (compact) {
    t.AddColumn("Host");
    t.AddColumn("Tags  ");
  } else {
    t.AddColumn("Host      ");
    t.AddColumn("Tags      ");
    if (with_reasons) t.AddColumn("Reasons");
    t.AddColumn("Paths");
  }
  bool multiline = false;
  for (const SnapshotEntry& e : list) {
    const format::Snapshot& sn = e.snapshot;
    std::vector<std::string> row = {e.id.ShortHex(), LocalTimeString(sn.time), sn.hostname,
                                    Join(sn.tags, compact ? "\n" : ",")};
    if (!compact) {
      if (with_reasons) row.push_back(Join(why[e.id], "\n"));
      row.push_back(Join(sn.paths, "\n"));
      multiline = multiline || sn.paths.size() > 1;
    }
    t.AddRow(std::move(row));
  }
  t.AddFooter(std::to_string(list.size()) + " snapshots");
  t.set_blank_line_between_rows(multiline);
  return t.Render();
}

std::string GroupHeader(const SnapshotGroup& g) {
  std::vector<std::string> parts;
  if (!g.hostname.empty()) parts.push_back("host [" + g.hostname + "]");
  if (g.has_tags) parts.push_back("tags [" + Join(g.tags, ", ") + "]");
  if (g.has_paths) parts.push_back("paths [" + Join(g.paths, ", ") + "]");
  if (parts.empty()) return "";
  return "snapshots for (" + Join(parts, ", ") + "):\n";
}

}  // namespace

Result<ForgetPlan> PlanForget(repo::Repository& repo, const ForgetRequest& request, SystemTime now,
                              const WarnFn& warn) {
  ForgetPlan plan;
  std::set<Id> remove;
  if (!request.ids.empty()) {
    for (const std::string& name : request.ids) {
      auto found = FindSnapshot(repo, name, name == "latest" ? request.filter : SnapshotFilter{});
      if (!found.ok()) {
        warn("Ignoring \"" + name + "\": " + found.status().message());
        continue;
      }
      remove.insert(found->id);
    }
    plan.remove.assign(remove.begin(), remove.end());
    return plan;
  }
  STASH_ASSIGN_OR_RETURN(std::vector<SnapshotEntry> list,
                         LoadSnapshots(repo, request.filter, warn));
  if (request.policy.Empty()) return plan;
  plan.policy_applied = true;
  plan.policy_text = request.policy.ToString();
  for (SnapshotGroup& g : GroupSnapshots(std::move(list), request.group_by)) {
    ForgetGroupResult fg;
    fg.result = ApplyPolicy(std::move(g.snapshots), request.policy, now);
    g.snapshots.clear();
    fg.group = std::move(g);
    for (const SnapshotEntry& e : fg.result.remove) remove.insert(e.id);
    plan.groups.push_back(std::move(fg));
  }
  plan.remove.assign(remove.begin(), remove.end());
  return plan;
}

std::string ForgetJson(const ForgetPlan& plan) {
  if (plan.groups.empty()) return "";
  format::GoJsonWriter w;
  w.BeginArray();
  for (const ForgetGroupResult& fg : plan.groups) {
    w.BeginObject();
    w.Key("tags");
    WriteStringList(w, fg.group.has_tags, fg.group.tags);
    w.Key("host");
    w.String(fg.group.hostname);
    w.Key("paths");
    WriteStringList(w, fg.group.has_paths, fg.group.paths);
    w.Key("keep");
    WriteSnapshotList(w, fg.result.keep);
    w.Key("remove");
    WriteSnapshotList(w, fg.result.remove);
    w.Key("reasons");
    WriteReasons(w, fg.result.reasons);
    w.EndObject();
  }
  w.EndArray();
  return w.Take() + "\n";
}

std::string ForgetText(const ForgetPlan& plan, int verbose, bool quiet, bool compact) {
  if (quiet) return "";
  std::string out;
  if (!plan.policy_applied) return out;
  out += "Applying Policy: " + plan.policy_text + "\n";
  for (const ForgetGroupResult& fg : plan.groups) {
    if (verbose >= 1) out += GroupHeader(fg.group);
    if (!fg.result.keep.empty()) {
      out += "keep " + std::to_string(fg.result.keep.size()) + " snapshots:\n";
      out += SnapshotTable(fg.result.keep, &fg.result.reasons, compact) + "\n";
    }
    if (!fg.result.remove.empty()) {
      out += "remove " + std::to_string(fg.result.remove.size()) + " snapshots:\n";
      out += SnapshotTable(fg.result.remove, nullptr, compact) + "\n";
    }
  }
  return out;
}

std::string ShortIdSet(const std::vector<Id>& ids) {
  std::vector<Id> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  std::string s = "{";
  for (size_t i = 0; i < sorted.size(); ++i) s += (i ? " " : "") + sorted[i].ShortHex();
  return s + "}";
}

Status RemoveSnapshots(repo::Repository& repo, const std::vector<Id>& ids) {
  for (const Id& id : ids) {
    backend::Handle h{backend::FileType::kSnapshot, id.Hex()};
    Status s = repo.backend().Remove(h);
    if (!s.ok() && s.code() != Code::kNotFound) {
      return std::move(s).Prepend("unable to remove " + h.ToString() + " from the repository");
    }
  }
  return Status::Ok();
}

}  // namespace stash::engine
