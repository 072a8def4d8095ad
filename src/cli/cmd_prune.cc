// `stash prune`: restic 0.14's prune (see engine/prune.h) under an exclusive
// lock, with its flags and its statistics text. Also the part `forget
// --prune` shares.
#include "cmd_prune.h"

#include <iostream>
#include <memory>

#include "commands.h"
#include "stash/cli/app.h"
#include "stash/engine/lock.h"
#include "stash/engine/prune.h"

namespace stash::cli {

void AddPruneFlags(CLI::App* cmd, PruneFlags* f) {
  cmd->add_option("--max-unused", f->max_unused,
                  "tolerate given limit of unused data (absolute value in bytes with suffixes "
                  "k/K, m/M, g/G, t/T, a value in % or the word 'unlimited')")
      ->capture_default_str();
  cmd->add_option("--max-repack-size", f->max_repack_size,
                  "maximum size to repack (allowed suffixes: k/K, m/M, g/G, t/T)");
  cmd->add_flag("--repack-cacheable-only", f->repack_cacheable_only,
                "only repack packs which are cacheable");
  cmd->add_flag("--repack-small", f->repack_small,
                "repack pack files below 80% of target pack size");
  cmd->add_flag("--repack-uncompressed", f->repack_uncompressed, "repack all uncompressed data");
}

std::variant<engine::PruneOptions, CliError> ResolvePruneFlags(const PruneFlags& f) {
  engine::PruneOptions o;
  auto mu = engine::ParseMaxUnused(f.max_unused);
  if (!mu.ok()) return CliError{kExitError, "Fatal: " + mu.status().message()};
  o.max_unused = *mu;
  if (!f.max_repack_size.empty()) {
    auto size = engine::ParseSize(f.max_repack_size);
    if (!size.ok()) return CliError{kExitError, "Fatal: " + size.status().message()};
    o.max_repack_bytes = *size;
  }
  o.repack_cacheable_only = f.repack_cacheable_only;
  o.repack_small = f.repack_small;
  o.repack_uncompressed = f.repack_uncompressed;
  return o;
}

int RunPruneWithRepo(const ResticOptions& ro, const engine::PruneOptions& opts, bool dry_run,
                     repo::Repository& repo, const std::set<Id>& ignore_snapshots) {
  const int verbose = ro.quiet ? -1 : ro.verbose;
  auto log = [verbose](int level, const std::string& line) {
    if (verbose >= level) std::cout << line << "\n" << std::flush;
  };
  log(0, "loading indexes...");
  if (Status s = repo.LoadIndex(); !s.ok()) {
    std::cerr << FatalError(s).message << "\n";
    return kExitError;
  }
  auto plan = engine::PlanPrune(repo, opts, ignore_snapshots, log);
  if (!plan.ok()) {
    std::cerr << FatalError(plan.status()).message << "\n";
    return kExitError;
  }
  if (verbose >= 0) std::cout << engine::PruneStatsText(plan->stats, verbose);
  if (dry_run) {
    if (verbose >= 1 && !ro.json) {
      auto ids = [](const std::set<Id>& s) {
        std::string out = "{";
        for (const Id& id : s) out += (out.size() > 1 ? " " : "") + id.ShortHex();
        return out + "}";
      };
      if (!plan->remove_packs_first.empty()) {
        std::cout << "Would have removed the following unreferenced packs:\n"
                  << ids(plan->remove_packs_first) << "\n\n";
      }
      std::cout << "Would have repacked and removed the following packs:\n"
                << ids(plan->repack_packs) << "\n\n";
      std::cout << "Would have removed the following no longer used packs:\n"
                << ids(plan->remove_packs) << "\n\n";
    }
    return kExitOk;
  }
  if (Status s = engine::ExecutePrune(repo, std::move(*plan), log); !s.ok()) {
    std::cerr << FatalError(s).message << "\n";
    return kExitError;
  }
  return kExitOk;
}

namespace {

struct PruneCmdFlags {
  PruneFlags prune;
  bool dry_run = false;
};

int RunPrune(const ResticOptions& ro, const PruneCmdFlags& f) {
  auto opts = ResolvePruneFlags(f.prune);
  if (auto rc = ReportCliError(opts)) return *rc;
  auto opened = OpenExclusive(ro, /*lock=*/true);
  if (auto* rc = std::get_if<int>(&opened)) return *rc;
  OpenedRepo& o = std::get<OpenedRepo>(opened);
  int rc = RunPruneWithRepo(ro, std::get<engine::PruneOptions>(opts), f.dry_run, *o.repo, {});
  if (Status s = o.lock.Release(); !s.ok()) std::cerr << s.message() << "\n";
  return rc;
}

}  // namespace

void RegisterPrune(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("prune", "Remove unneeded data from the repository");
  auto flags = std::make_shared<PruneCmdFlags>();
  cmd->add_flag("-n,--dry-run", flags->dry_run,
                "do not modify the repository, just print what would be done");
  AddPruneFlags(cmd, &flags->prune);
  cmd->callback([ro, flags, exit_code] { *exit_code = RunPrune(*ro, *flags); });
}

std::variant<OpenedRepo, int> OpenExclusive(const ResticOptions& ro, bool lock) {
  auto opened = OpenForVerb(ro);
  if (!lock || std::holds_alternative<int>(opened)) return opened;
  OpenedRepo& o = std::get<OpenedRepo>(opened);
  auto l = engine::ScopedLock::Acquire(*o.repo, engine::LockMode::kExclusive, *o.ctx.clock,
                                       engine::LockOwner::Current(), o.ctx.lock_timing);
  if (!l.ok()) {
    std::cerr << l.status().message() << "\n";
    return kExitError;
  }
  o.lock = std::move(l).value();
  return opened;
}

}  // namespace stash::cli
