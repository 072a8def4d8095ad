// `stash stats`: restic 0.14's repository statistics (four counting modes,
// text or --json), under a shared lock like the other readers.
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"
#include "stash/engine/stats.h"

namespace stash::cli {

namespace {

struct StatsFlags {
  FilterFlags filter;
  std::string mode = "restore-size";
  std::vector<std::string> ids;
};

int RunStats(const ResticOptions& ro, const StatsFlags& f) {
  auto mode = engine::ParseStatsMode(f.mode);
  if (!mode.ok()) {
    std::cerr << mode.status().message() << "\n";
    return kExitError;
  }
  auto opened = OpenForVerb(ro, VerbLock::kShared);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  if (Status s = repo.LoadIndex(); !s.ok()) {
    std::cerr << "Fatal: " << s.message() << "\n";
    return kExitError;
  }
  // Printed even with --quiet, as restic's Printf.
  if (!ro.json) std::cout << "scanning...\n" << std::flush;
  auto selected = SelectSnapshots(repo, f.ids, f.filter);
  std::vector<engine::SnapshotEntry> snapshots;
  if (selected.ok()) {
    snapshots = std::move(*selected);
  } else {
    // restic warns and counts nothing.
    std::cerr << "could not load snapshots: " << selected.status().message() << "\n";
  }
  auto stats = engine::ComputeStats(repo, *mode, snapshots);
  if (!stats.ok()) {
    std::cerr << stats.status().message() << "\n";
    return kExitError;
  }
  std::cout << (ro.json ? engine::StatsJson(*stats) : engine::StatsText(*stats, *mode));
  return kExitOk;
}

}  // namespace

void RegisterStats(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("stats", "Scan the repository and show basic statistics");
  auto flags = std::make_shared<StatsFlags>();
  flags->filter.Add(cmd, "");
  cmd->add_option("--mode", flags->mode,
                  "counting mode: restore-size (default), files-by-contents, blobs-per-file or "
                  "raw-data");
  cmd->add_option("snapshotID", flags->ids, "snapshot IDs to count (default: all)");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunStats(*ro, *flags); });
}

}  // namespace stash::cli
