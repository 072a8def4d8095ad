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
  auto warn = [](const std::string& w) { std::cerr << w << "\n"; };

  std::vector<engine::SnapshotEntry> list;
  if (!f.ids.empty()) {
    bool used_filter = false;
    for (const std::string& id : f.ids) {
      if (id == "latest") used_filter = true;
      auto entry = engine::FindSnapshot(repo, id, f.filter.ToFilter());
      if (!entry.ok()) {
        if (id == "latest") {
          std::cerr << "Ignoring \"latest\", no snapshot matched given filter (Paths:"
                    << GoList(f.filter.paths) << " Tags:" << GoTagLists(f.filter.tags)
                    << " Hosts:" << GoList(f.filter.hosts) << ")\n";
        } else {
          std::cerr << "Ignoring \"" << id << "\": " << entry.status().message() << "\n";
        }
        continue;
      }
      bool dup = false;
      for (const auto& e : list) dup = dup || e.id == entry->id;
      if (!dup) list.push_back(std::move(*entry));
    }
    if (!used_filter && !f.filter.ToFilter().empty()) {
      std::cerr << "Ignoring filters as there are explicit snapshot ids given\n";
    }
  } else {
    auto loaded = engine::LoadSnapshots(repo, f.filter.ToFilter(), warn);
    if (!loaded.ok()) {
      std::cerr << "Fatal: " << loaded.status().message() << "\n";
      return kExitError;
    }
    list = std::move(*loaded);
  }
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
  cmd->add_option("--latest", flags->latest, "only show the last n snapshots for each host and path");
  cmd->add_option("-g,--group-by", flags->group_by,
                  "group snapshots by host, paths and/or tags (not supported yet)");
  cmd->add_option("snapshotID", flags->ids, "snapshot IDs to show (default: all)");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunSnapshots(*ro, *flags); });
}

}  // namespace stash::cli
