// `stash restore`: restores a snapshot into a directory, as restic 0.14.
#include <chrono>
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"
#include "stash/engine/restore.h"

namespace stash::cli {

namespace {

struct RestoreFlags {
  FilterFlags filter;
  std::string target;
  std::vector<std::string> excludes;
  std::vector<std::string> includes;
  std::vector<std::string> iexcludes;
  std::vector<std::string> iincludes;
  bool verify = false;
  std::vector<std::string> ids;
};

// Go's time.Duration.String() of a duration rounded to milliseconds.
std::string GoDurationMs(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string s;
  int64_t minutes = ms / 60000;
  int64_t rest = ms % 60000;
  if (minutes >= 60) s += std::to_string(minutes / 60) + "h";
  if (minutes > 0) s += std::to_string(minutes % 60) + "m";
  std::string frac = std::to_string(rest % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  s += std::to_string(rest / 1000) + (frac.empty() ? "" : "." + frac) + "s";
  return s;
}

int RunRestore(const ResticOptions& ro, const RestoreFlags& f) {
  auto includes = engine::PatternList::Parse(f.includes);
  if (!includes.ok()) {
    std::cerr << "Fatal: --include: " << includes.status().message() << "\n";
    return kExitError;
  }
  auto excludes = engine::PatternList::Parse(f.excludes);
  if (!excludes.ok()) {
    std::cerr << "Fatal: --exclude: " << excludes.status().message() << "\n";
    return kExitError;
  }
  auto lower = [](std::vector<std::string> v) {
    for (std::string& p : v) {
      for (char& c : p) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
    }
    return v;
  };
  auto iincludes = engine::PatternList::Parse(lower(f.iincludes));
  if (!iincludes.ok()) {
    std::cerr << "Fatal: --iinclude: " << iincludes.status().message() << "\n";
    return kExitError;
  }
  auto iexcludes = engine::PatternList::Parse(lower(f.iexcludes));
  if (!iexcludes.ok()) {
    std::cerr << "Fatal: --iexclude: " << iexcludes.status().message() << "\n";
    return kExitError;
  }
  if (f.ids.empty()) {
    std::cerr << "Fatal: no snapshot ID specified\n";
    return kExitError;
  }
  if (f.ids.size() > 1) {
    std::cerr << "Fatal: more than one snapshot ID specified: " << GoList(f.ids) << "\n";
    return kExitError;
  }
  if (f.target.empty()) {
    std::cerr << "Fatal: please specify a directory to restore to (--target)\n";
    return kExitError;
  }
  const bool has_excludes = !excludes->empty() || !iexcludes->empty();
  if (has_excludes && (!includes->empty() || !iincludes->empty())) {
    std::cerr << "Fatal: exclude and include patterns are mutually exclusive\n";
    return kExitError;
  }
  auto opened = OpenForVerb(ro, VerbLock::kShared);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  auto found = SnapshotToRead(repo, f.ids[0], f.filter);
  if (auto* code = std::get_if<int>(&found)) return *code;
  const engine::SnapshotEntry* entry = &std::get<engine::SnapshotEntry>(found);
  engine::RestoreOptions opts;
  opts.target = f.target;
  opts.includes = std::move(*includes);
  opts.excludes = std::move(*excludes);
  opts.iincludes = std::move(*iincludes);
  opts.iexcludes = std::move(*iexcludes);
  const bool verbose = !ro.quiet && !ro.json;
  if (verbose) {
    std::cout << "restoring " << engine::DescribeSnapshot(*entry) << " to " << f.target << "\n";
    std::cout.flush();
  }
  uint64_t errors = 0;
  engine::Restorer restorer(
      repo, *entry, std::move(opts), [&errors](const std::string& location, const Status& error) {
        ++errors;
        std::cerr << "ignoring error for " << location << ": " << error.message() << "\n";
      });
  auto stats = restorer.Run();
  if (!stats.ok()) {
    std::cerr << "Fatal: " << stats.status().message() << "\n";
    return kExitError;
  }
  if (errors > 0) {
    std::cerr << "Fatal: There were " << errors << " errors\n";
    return kExitError;
  }
  if (f.verify) {
    if (verbose) std::cout << "verifying files in " << f.target << "\n";
    auto t0 = std::chrono::steady_clock::now();
    auto count = restorer.Verify();
    if (!count.ok()) {
      std::cerr << "Fatal: " << count.status().message() << "\n";
      return kExitError;
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    if (errors > 0) {
      std::cerr << "Fatal: There were " << errors << " errors\n";
      return kExitError;
    }
    if (verbose) {
      std::cout << "finished verifying " << *count << " files in " << f.target << " (took "
                << GoDurationMs(took) << ")\n";
    }
  }
  return kExitOk;
}

}  // namespace

void RegisterRestore(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("restore", "Extract the data from a snapshot");
  auto flags = std::make_shared<RestoreFlags>();
  flags->filter.Add(cmd, " when the snapshot ID is \"latest\"");
  auto one_each = [](CLI::Option* o) { o->allow_extra_args(false); };
  cmd->add_option("-t,--target", flags->target, "directory to extract data to");
  one_each(cmd->add_option("-e,--exclude", flags->excludes,
                           "exclude a pattern (can be specified multiple times)"));
  one_each(cmd->add_option("-i,--include", flags->includes,
                           "include a pattern, exclude everything else (can be repeated)"));
  one_each(cmd->add_option("--iexclude", flags->iexcludes,
                           "same as --exclude but ignores the casing of filenames"));
  one_each(cmd->add_option("--iinclude", flags->iincludes,
                           "same as --include but ignores the casing of filenames"));
  cmd->add_flag("--verify", flags->verify, "verify restored files content");
  cmd->add_option("snapshotID", flags->ids, "snapshot ID or \"latest\"");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunRestore(*ro, *flags); });
}

}  // namespace stash::cli
