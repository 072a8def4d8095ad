// The summary of a backup as restic 0.14 prints it, from the one struct
// Backup returns (BackupStats): the `--json` line
// {"message_type":"summary",...} or the text block ("Files: ... new", "Added
// to the repository: ...", "snapshot 1a2b3c4d saved"). The sidecar reads the
// same struct directly; only a restic binary's output is parsed back
// (ParseBackupSummaryJson), for the runner that drives one.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stash/core/result.h"
#include "stash/engine/backup.h"

namespace stash::engine {

enum class SummaryFormat { kText, kJson };

// The text block (starting with an empty line) or the JSON line, each ending
// in a newline. `dry_run`: "Would add", no "saved" line, "dry_run":true.
std::string FormatBackupSummary(const BackupStats& stats, SummaryFormat format, bool dry_run);

// The last {"message_type":"summary"} line of `output` (restic's or ours).
// Its snapshot_id is a short id (restic's Str()): it goes to *snapshot_prefix
// and stats.snapshot_id stays zero.
Result<BackupStats> ParseBackupSummaryJson(std::string_view output, std::string* snapshot_prefix);

}  // namespace stash::engine
