// Private to cli: what the deleting verbs (prune, forget, unlock) share —
// restic's prune flags and their validation, opening the repository under
// restic's exclusive lock, and running prune on it.
//
// Thread-safety: main thread only, like the rest of the CLI.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "cmd_read_common.h"
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

// Opens the repository and, when `lock` is set, takes restic's exclusive lock
// (forget and prune delete files); on failure prints the message and returns
// the exit code.
std::variant<OpenedRepo, int> OpenExclusive(const ResticOptions& ro, bool lock);

// Loads the index, plans, prints the statistics and (unless dry_run)
// executes. Snapshots in `ignore_snapshots` do not keep data alive. Returns
// the exit code; errors are printed on stderr.
int RunPruneWithRepo(const ResticOptions& ro, const engine::PruneOptions& opts, bool dry_run,
                     repo::Repository& repo, const std::set<Id>& ignore_snapshots);

}  // namespace stash::cli
