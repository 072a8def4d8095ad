// `stash unlock`: removes stale locks (older than 30 minutes, or left by a
// process on this host that is gone), or every lock with --remove-all, as
// restic 0.14's unlock.
#include <iostream>
#include <memory>

#include "cmd_read_common.h"
#include "commands.h"
#include "restic_options.h"
#include "stash/cli/app.h"
#include "stash/engine/lock.h"

namespace stash::cli {

namespace {

int RunUnlock(const ResticOptions& ro, bool remove_all) {
  auto opened = OpenForVerb(ro);
  if (auto* rc = std::get_if<int>(&opened)) return *rc;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  const ResticContext& ctx = std::get<OpenedRepo>(opened).ctx;
  auto removed = engine::RemoveLocks(repo, remove_all, ctx.clock->Now(),
                                     engine::LockOwner::Current().hostname);
  if (!removed.ok()) {
    std::cerr << FatalError(removed.status()).message << "\n";
    return kExitError;
  }
  if (!ro.quiet && !ro.json) std::cout << "successfully removed locks\n";
  return kExitOk;
}

}  // namespace

void RegisterUnlock(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("unlock", "Remove locks other processes created");
  auto remove_all = std::make_shared<bool>(false);
  cmd->add_flag("--remove-all", *remove_all, "remove all locks, even non-stale ones");
  cmd->callback([ro, remove_all, exit_code] { *exit_code = RunUnlock(*ro, *remove_all); });
}

}  // namespace stash::cli
