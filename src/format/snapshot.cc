#include "stash/format/snapshot.h"

#include "json_scan.h"
#include "stash/format/gojson.h"

namespace stash::format {
namespace {

constexpr std::string_view kDoc = "snapshot";

void WriteStrings(GoJsonWriter* w, const std::vector<std::string>& list) {
  w->BeginArray();
  for (const std::string& s : list) w->String(s);
  w->EndArray();
}

// Field order and names of restic's SnapshotSummary; none is omitempty.
struct SummaryCounter {
  const char* key;
  uint64_t SnapshotSummary::*field;
};
constexpr SummaryCounter kSummaryCounters[] = {
    {"files_new", &SnapshotSummary::files_new},
    {"files_changed", &SnapshotSummary::files_changed},
    {"files_unmodified", &SnapshotSummary::files_unmodified},
    {"dirs_new", &SnapshotSummary::dirs_new},
    {"dirs_changed", &SnapshotSummary::dirs_changed},
    {"dirs_unmodified", &SnapshotSummary::dirs_unmodified},
    {"data_blobs", &SnapshotSummary::data_blobs},
    {"tree_blobs", &SnapshotSummary::tree_blobs},
    {"data_added", &SnapshotSummary::data_added},
    {"data_added_packed", &SnapshotSummary::data_added_packed},
    {"total_files_processed", &SnapshotSummary::total_files_processed},
    {"total_bytes_processed", &SnapshotSummary::total_bytes_processed},
};

void WriteSummary(GoJsonWriter* w, const SnapshotSummary& s) {
  w->BeginObject();
  w->Key("backup_start");
  w->Time(s.backup_start);
  w->Key("backup_end");
  w->Time(s.backup_end);
  for (const SummaryCounter& c : kSummaryCounters) {
    w->Key(c.key);
    w->Uint(s.*c.field);
  }
  w->EndObject();
}

Status ReadSummary(internal::JsonScanner& js, SnapshotSummary* s) {
  return js.Object([&](const std::string& key) -> Status {
    if (key == "backup_start") return js.Time(&s->backup_start);
    if (key == "backup_end") return js.Time(&s->backup_end);
    for (const SummaryCounter& c : kSummaryCounters) {
      if (key == c.key) return js.Uint(UINT64_MAX, &(s->*c.field));
    }
    return js.Skip();
  });
}

Status ReadOptionalId(internal::JsonScanner& js, std::optional<Id>* out) {
  Id id;
  STASH_RETURN_IF_ERROR(js.IdValue(&id));
  *out = id;
  return Status::Ok();
}

}  // namespace

std::string EncodeSnapshot(const Snapshot& s) {
  GoJsonWriter w;
  w.BeginObject();
  w.TimeField("time", s.time);
  if (s.parent.has_value()) w.IdField("parent", *s.parent);
  w.IdField("tree", s.tree);
  w.Key("paths");
  WriteStrings(&w, s.paths);
  if (!s.hostname.empty()) w.StringField("hostname", s.hostname);
  if (!s.username.empty()) w.StringField("username", s.username);
  if (s.uid != 0) w.UintField("uid", s.uid);
  if (s.gid != 0) w.UintField("gid", s.gid);
  if (!s.excludes.empty()) {
    w.Key("excludes");
    WriteStrings(&w, s.excludes);
  }
  if (!s.tags.empty()) {
    w.Key("tags");
    WriteStrings(&w, s.tags);
  }
  if (s.original.has_value()) w.IdField("original", *s.original);
  if (!s.program_version.empty()) w.StringField("program_version", s.program_version);
  if (s.summary.has_value()) {
    w.Key("summary");
    WriteSummary(&w, *s.summary);
  }
  w.EndObject();
  return w.Take();
}

Result<Snapshot> DecodeSnapshot(std::string_view json) {
  internal::JsonScanner js(json, kDoc);
  Snapshot s;
  bool has_tree = false;
  Status status = js.Document([&](const std::string& key) -> Status {
    if (key == "time") return js.Time(&s.time);
    if (key == "parent") return ReadOptionalId(js, &s.parent);
    if (key == "tree") {
      has_tree = true;
      return js.IdValue(&s.tree);
    }
    if (key == "paths") return js.StringList(&s.paths);
    if (key == "hostname") return js.String(&s.hostname);
    if (key == "username") return js.String(&s.username);
    if (key == "uid") return js.U32(&s.uid);
    if (key == "gid") return js.U32(&s.gid);
    if (key == "excludes") return js.StringList(&s.excludes);
    if (key == "tags") return js.StringList(&s.tags);
    if (key == "original") return ReadOptionalId(js, &s.original);
    if (key == "program_version") return js.String(&s.program_version);
    if (key == "summary") {
      SnapshotSummary summary;
      STASH_RETURN_IF_ERROR(ReadSummary(js, &summary));
      s.summary = summary;
      return Status::Ok();
    }
    return js.Skip();
  });
  if (!status.ok()) return status;
  if (!has_tree) {
    return InvalidError(
        "snapshot has no tree; the snapshot file is damaged, remove it with "
        "forget or repair it");
  }
  return s;
}

}  // namespace stash::format
