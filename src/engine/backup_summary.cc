#include "stash/engine/backup_summary.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "restic_json.h"
#include "stash/core/units.h"
#include "stash/engine/progress.h"
#include "stash/format/gojson.h"

namespace stash::engine {

namespace {

std::string JsonSummary(const BackupStats& s, bool dry_run) {
  format::GoJsonWriter w;
  w.BeginObject();
  w.StringField("message_type", "summary");
  w.UintField("files_new", s.files_new);
  w.UintField("files_changed", s.files_changed);
  w.UintField("files_unmodified", s.files_unmodified);
  w.UintField("dirs_new", s.dirs_new);
  w.UintField("dirs_changed", s.dirs_changed);
  w.UintField("dirs_unmodified", s.dirs_unmodified);
  w.UintField("data_blobs", s.data_blobs);
  w.UintField("tree_blobs", s.tree_blobs);
  w.UintField("data_added", s.data_added);
  w.UintField("total_files_processed", s.total_files_processed);
  w.UintField("total_bytes_processed", s.total_bytes_processed);
  w.FloatField("total_duration", s.seconds);
  w.StringField("snapshot_id", s.snapshot_id.ShortHex());
  if (dry_run) w.BoolField("dry_run", true);
  w.EndObject();
  return w.Take() + "\n";
}

std::string TextSummary(const BackupStats& s, bool dry_run) {
  auto line = [](const char* what, uint64_t n, uint64_t c, uint64_t u) {
    char buf[160];
    snprintf(buf, sizeof buf, "%-12s %5llu new, %5llu changed, %5llu unmodified\n", what,
             static_cast<unsigned long long>(n), static_cast<unsigned long long>(c),
             static_cast<unsigned long long>(u));
    return std::string(buf);
  };
  std::string out = "\n";
  out += line("Files:", s.files_new, s.files_changed, s.files_unmodified);
  out += line("Dirs:", s.dirs_new, s.dirs_changed, s.dirs_unmodified);
  out += std::string(dry_run ? "Would add" : "Added") +
         " to the repository: " + FormatBytes(s.data_added) + " (" +
         FormatBytes(s.data_added_packed) + " stored)\n\n";
  out += "processed " + std::to_string(s.total_files_processed) + " files, " +
         FormatBytes(s.total_bytes_processed) + " in " +
         FormatSeconds(static_cast<uint64_t>(s.seconds)) + "\n";
  if (!dry_run) out += "snapshot " + s.snapshot_id.ShortHex() + " saved\n";
  return out;
}

}  // namespace

std::string FormatBackupSummary(const BackupStats& stats, SummaryFormat format, bool dry_run) {
  return format == SummaryFormat::kJson ? JsonSummary(stats, dry_run) : TextSummary(stats, dry_run);
}

Result<BackupStats> ParseBackupSummaryJson(std::string_view output, std::string* snapshot_prefix) {
  std::optional<nlohmann::json> summary;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    if (auto m = ResticMessage(output.substr(start, end - start), "summary"))
      summary = std::move(m);
    start = end + 1;
  }
  if (!summary) return InternalError("the backup printed no --json summary line");
  BackupStats s;
  ReadCounters(*summary, {{"files_new", &s.files_new},
                          {"files_changed", &s.files_changed},
                          {"files_unmodified", &s.files_unmodified},
                          {"dirs_new", &s.dirs_new},
                          {"dirs_changed", &s.dirs_changed},
                          {"dirs_unmodified", &s.dirs_unmodified},
                          {"data_blobs", &s.data_blobs},
                          {"tree_blobs", &s.tree_blobs},
                          {"data_added", &s.data_added},
                          {"total_files_processed", &s.total_files_processed},
                          {"total_bytes_processed", &s.total_bytes_processed}});
  if (auto d = summary->find("total_duration"); d != summary->end() && d->is_number()) {
    s.seconds = d->get<double>();
  }
  auto id = summary->find("snapshot_id");
  if (id == summary->end() || !id->is_string() || id->get<std::string>().empty()) {
    return InternalError("the backup summary has no snapshot_id");
  }
  *snapshot_prefix = id->get<std::string>();
  return s;
}

}  // namespace stash::engine
