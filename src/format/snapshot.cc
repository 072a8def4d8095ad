#include "stash/format/snapshot.h"

#include "json_read.h"
#include "stash/format/gojson.h"

namespace stash::format {
namespace {

using internal::Json;

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

Status ReadSummary(const Json& obj, SnapshotSummary* s) {
  STASH_RETURN_IF_ERROR(internal::ExpectObject(obj, kDoc, "summary"));
  STASH_RETURN_IF_ERROR(internal::ReadTime(obj, "backup_start", kDoc, &s->backup_start));
  STASH_RETURN_IF_ERROR(internal::ReadTime(obj, "backup_end", kDoc, &s->backup_end));
  for (const SummaryCounter& c : kSummaryCounters) {
    STASH_RETURN_IF_ERROR(internal::ReadUint(obj, c.key, kDoc, UINT64_MAX, &(s->*c.field)));
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeSnapshot(const Snapshot& s) {
  GoJsonWriter w;
  w.BeginObject();
  w.Key("time");
  w.Time(s.time);
  if (s.parent.has_value()) {
    w.Key("parent");
    w.IdHex(*s.parent);
  }
  w.Key("tree");
  w.IdHex(s.tree);
  w.Key("paths");
  WriteStrings(&w, s.paths);
  if (!s.hostname.empty()) {
    w.Key("hostname");
    w.String(s.hostname);
  }
  if (!s.username.empty()) {
    w.Key("username");
    w.String(s.username);
  }
  if (s.uid != 0) {
    w.Key("uid");
    w.Uint(s.uid);
  }
  if (s.gid != 0) {
    w.Key("gid");
    w.Uint(s.gid);
  }
  if (!s.excludes.empty()) {
    w.Key("excludes");
    WriteStrings(&w, s.excludes);
  }
  if (!s.tags.empty()) {
    w.Key("tags");
    WriteStrings(&w, s.tags);
  }
  if (s.original.has_value()) {
    w.Key("original");
    w.IdHex(*s.original);
  }
  if (!s.program_version.empty()) {
    w.Key("program_version");
    w.String(s.program_version);
  }
  if (s.summary.has_value()) {
    w.Key("summary");
    WriteSummary(&w, *s.summary);
  }
  w.EndObject();
  return w.Take();
}

Result<Snapshot> DecodeSnapshot(std::string_view json) {
  STASH_ASSIGN_OR_RETURN(Json doc, internal::ParseJson(json, kDoc));
  Snapshot s;
  bool has_tree = false;
  STASH_RETURN_IF_ERROR(internal::ReadTime(doc, "time", kDoc, &s.time));
  STASH_RETURN_IF_ERROR(internal::ReadOptionalId(doc, "parent", kDoc, &s.parent));
  STASH_RETURN_IF_ERROR(internal::ReadId(doc, "tree", kDoc, &s.tree, &has_tree));
  if (!has_tree) {
    return InvalidError(
        "snapshot has no tree; the snapshot file is damaged, remove it with "
        "forget or repair it");
  }
  STASH_RETURN_IF_ERROR(internal::ReadStringList(doc, "paths", kDoc, &s.paths));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "hostname", kDoc, &s.hostname));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "username", kDoc, &s.username));
  STASH_RETURN_IF_ERROR(internal::ReadUint32(doc, "uid", kDoc, &s.uid));
  STASH_RETURN_IF_ERROR(internal::ReadUint32(doc, "gid", kDoc, &s.gid));
  STASH_RETURN_IF_ERROR(internal::ReadStringList(doc, "excludes", kDoc, &s.excludes));
  STASH_RETURN_IF_ERROR(internal::ReadStringList(doc, "tags", kDoc, &s.tags));
  STASH_RETURN_IF_ERROR(internal::ReadOptionalId(doc, "original", kDoc, &s.original));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "program_version", kDoc, &s.program_version));
  if (auto it = doc.find("summary"); it != doc.end() && !it->is_null()) {
    SnapshotSummary summary;
    STASH_RETURN_IF_ERROR(ReadSummary(*it, &summary));
    s.summary = summary;
  }
  return s;
}

}  // namespace stash::format
