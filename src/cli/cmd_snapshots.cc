// `stash snapshots`: lists snapshots as restic 0.14 (table or --json).
#include <algorithm>
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"

namespace stash::cli {

namespace {

struct SnapshotsFlags {
  FilterFlags filter;
  bool compact = false;
  bool last = false;
  int latest = 0;
  std::string group_by;
  std::vector<std::string> ids;
};

int RunSnapshots(const ResticOptions& ro, const SnapshotsFlags& f) {
  if (!f.group_by.empty()) {
    std::cerr << "Fatal: --group-by is not supported by stash yet\n";
    return kExitError;
  }
  auto opened = OpenForVerb(ro, VerbLock::kShared);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  auto selected = SelectSnapshots(repo, f.ids, f.filter);
  if (!selected.ok()) {
    std::cerr << "Fatal: " << selected.status().message() << "\n";
    return kExitError;
  }
  std::vector<engine::SnapshotEntry> list = std::move(*selected);
  // restic's grouping step sorts every snapshot's paths before printing.
  for (auto& e : list) std::sort(e.snapshot.paths.begin(), e.snapshot.paths.end());
  if (f.last) {
    list = engine::KeepLatestPerGroup(std::move(list), 1);
  } else if (f.latest > 0) {
    list = engine::KeepLatestPerGroup(std::move(list), f.latest);
  }
  if (ro.json) {
    std::cout << engine::SnapshotsJson(list);
  } else if (!list.empty()) {
    std::cout << engine::SnapshotsTable(std::move(list), f.compact);
  }
  return kExitOk;
}

}  // namespace

void RegisterSnapshots(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("snapshots", "List all snapshots");
  auto flags = std::make_shared<SnapshotsFlags>();
  flags->filter.Add(cmd, "");
  cmd->add_flag("-c,--compact", flags->compact, "use compact output format");
  cmd->add_flag("--last", flags->last, "only show the last snapshot for each host and path");
  cmd->add_option("--latest", flags->latest,
                  "only show the last n snapshots for each host and path");
  cmd->add_option("-g,--group-by", flags->group_by,
                  "group snapshots by host, paths and/or tags (not supported yet)");
  cmd->add_option("snapshotID", flags->ids, "snapshot IDs to show (default: all)");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunSnapshots(*ro, *flags); });
}

}  // namespace stash::cli
