// Private to cli: what `prune` shares with `forget --prune` — restic's prune
// flags, their validation, and running prune on an open, exclusively locked
// repository.
//
// Thread-safety: main thread only, like the rest of the CLI.
#pragma once

#include <CLI/CLI.hpp>
#include <set>
#include <string>
#include <variant>

#include "restic_options.h"
#include "stash/core/id.h"
#include "stash/core/random.h"
#include "stash/engine/prune.h"
#include "stash/repo/repository.h"

namespace stash::cli {

struct PruneFlags {
  std::string max_unused = "5%";
  std::string max_repack_size;
  bool repack_cacheable_only = false;
  bool repack_small = false;
  bool repack_uncompressed = false;
};

void AddPruneFlags(CLI::App* cmd, PruneFlags* flags);
// restic's verifyPruneOptions: "Fatal: invalid value for --max-unused …".
std::variant<engine::PruneOptions, CliError> ResolvePruneFlags(const PruneFlags& flags);

// Loads the index, plans, prints the statistics and (unless dry_run)
// executes. Snapshots in `ignore_snapshots` do not keep data alive. Returns
// the exit code; errors are printed on stderr.
int RunPruneWithRepo(const ResticOptions& ro, const engine::PruneOptions& opts, bool dry_run,
                     repo::Repository& repo, Random& random, const std::set<Id>& ignore_snapshots);

}  // namespace stash::cli
