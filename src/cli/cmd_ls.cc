// `stash ls`: lists the files of a snapshot as restic 0.14.
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"
#include "stash/engine/ls.h"

namespace stash::cli {

namespace {

struct LsFlags {
  FilterFlags filter;
  bool long_format = false;
  bool recursive = false;
  std::vector<std::string> args;
};

int RunLs(const ResticOptions& ro, const LsFlags& f) {
  if (f.args.empty()) {
    std::cerr << "Fatal: no snapshot ID specified, specify snapshot ID or use special ID "
                 "'latest'\n";
    return kExitError;
  }
  engine::LsOptions opts;
  opts.dirs.assign(f.args.begin() + 1, f.args.end());
  opts.recursive = f.recursive;
  opts.long_format = f.long_format;
  opts.json = ro.json;
  for (const std::string& dir : opts.dirs) {
    if (dir.empty() || dir[0] != '/') {
      std::cerr << "Fatal: All path filters must be absolute, starting with a forward slash '/'\n";
      return kExitError;
    }
  }
  auto opened = OpenForVerb(ro);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  if (Status s = repo.LoadIndex(); !s.ok()) {
    std::cerr << "Fatal: " << s.message() << "\n";
    return kExitError;
  }
  const std::string& name = f.args[0];
  auto entry = engine::FindSnapshot(repo, name, f.filter.ToFilter());
  if (!entry.ok()) {
    // restic warns and lists nothing (exit 0) when the snapshot is not found.
    if (name == "latest") {
      std::cerr << "Ignoring \"latest\", no snapshot matched given filter (Paths:"
                << GoList(f.filter.paths) << " Tags:" << GoTagLists(f.filter.tags)
                << " Hosts:" << GoList(f.filter.hosts) << ")\n";
    } else {
      std::cerr << "Ignoring \"" << name << "\": " << entry.status().message() << "\n";
    }
    return kExitOk;
  }
  if (!ro.json && !ro.quiet) std::cout << engine::LsHeader(*entry, opts.dirs) << "\n";
  Status s =
      engine::ListSnapshot(repo, *entry, opts, [](std::string_view line) { std::cout << line; });
  std::cout.flush();
  if (!s.ok()) {
    std::cerr << "Fatal: " << s.message() << "\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterLs(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("ls", "List files in a snapshot");
  auto flags = std::make_shared<LsFlags>();
  flags->filter.Add(cmd, ", when snapshot ID \"latest\" is given");
  cmd->add_flag("-l,--long", flags->long_format, "use a long listing format showing size and mode");
  cmd->add_flag("--recursive", flags->recursive,
                "include files in subfolders of the listed directories");
  cmd->add_option("args", flags->args, "snapshotID [dir...]");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunLs(*ro, *flags); });
}

}  // namespace stash::cli
