// `stash check`: verifies a repository's structure and, with --read-data,
// every pack's content, as restic 0.14.
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"
#include "stash/engine/check.h"

namespace stash::cli {

namespace {

struct CheckFlags {
  bool read_data = false;
  std::string read_data_subset;
  bool check_unused = false;
  bool with_cache = false;
};

int RunCheck(const ResticOptions& ro, const CheckFlags& f) {
  auto opened = OpenForVerb(ro, VerbLock::kExclusive, f.with_cache);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  OpenedRepo& o = std::get<OpenedRepo>(opened);
  engine::CheckOptions opts;
  opts.read_data = f.read_data;
  opts.read_data_subset = f.read_data_subset;
  opts.check_unused = f.check_unused;
  opts.show_progress = !ro.quiet;
  engine::CheckOutput out;
  out.info = [&ro](const std::string& line) {
    if (!ro.quiet) std::cout << line << "\n" << std::flush;
  };
  out.error = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };
  engine::Checker checker(*o.repo, std::move(opts), std::move(out), *o.ctx.random);
  auto errors = checker.Run();
  if (!errors.ok()) {
    std::cerr << "Fatal: " << errors.status().message() << "\n";
    return kExitError;
  }
  if (*errors) {
    std::cerr << "Fatal: repository contains errors\n";
    return kExitError;
  }
  if (!ro.quiet) std::cout << "no errors were found\n";
  return kExitOk;
}

}  // namespace

void RegisterCheck(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("check", "Check the repository for errors");
  auto flags = std::make_shared<CheckFlags>();
  cmd->add_flag("--read-data", flags->read_data, "read all data blobs");
  cmd->add_option("--read-data-subset", flags->read_data_subset,
                  "read a subset of data packs, specified as 'n/t' for a specific part, or "
                  "'x%' for a random subset");
  cmd->add_flag("--check-unused", flags->check_unused, "find unused blobs");
  cmd->add_flag("--with-cache", flags->with_cache,
                "use the cache (default: read everything from the store)");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunCheck(*ro, *flags); });
}

}  // namespace stash::cli
