// `stash cache`: restic's cache verb — lists the local cache directories
// (repository id, last use, old or not, size) or, with --cleanup, removes the
// ones not used for --max-age days.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "restic_options.h"
#include "stash/backend/cache.h"
#include "stash/cli/app.h"
#include "stash/core/units.h"

namespace stash::cli {

namespace {

namespace fs = std::filesystem;

struct CacheFlags {
  bool cleanup = false;
  unsigned max_age_days = 30;
  bool no_size = false;
};

uint64_t DirSize(const fs::path& dir) {
  uint64_t size = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) size += it->file_size(ec);
  }
  return size;
}

// restic's table: columns two spaces apart, lines trimmed, dashes under the
// header and after the rows.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  size_t total = 2 * (width.size() - 1);
  for (size_t w : width) total += w;
  for (size_t n = 0; n < rows.size(); ++n) {
    std::string line;
    for (size_t i = 0; i < rows[n].size(); ++i) {
      if (i) line += "  ";
      line += rows[n][i] + std::string(width[i] - rows[n][i].size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
    if (n == 0) std::cout << std::string(total, '-') << "\n";
  }
  std::cout << std::string(total, '-') << "\n";
}

int RunCache(const ResticOptions& ro, const CacheFlags& f, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "Fatal: the cache command expects no arguments, only options - please see "
                 "`stash cache --help` for usage and flags\n";
    return kExitError;
  }
  if (ro.no_cache) {
    std::cerr << "Fatal: Refusing to do anything, the cache is disabled\n";
    return kExitError;
  }
  std::string base = ro.cache_dir;
  if (base.empty()) {
    auto d = backend::DefaultCacheDir(ProcessEnvironment());
    if (!d.ok()) {
      std::cerr << "Fatal: " << d.status().message() << "\n";
      return kExitError;
    }
    base = *d;
  }
  RealClock clock;
  const Duration max_age = std::chrono::hours(24) * f.max_age_days;
  if (f.cleanup || ro.cleanup_cache) {
    auto old = backend::OldCacheDirs(base, clock.Now(), max_age);
    if (!old.ok()) {
      std::cerr << "Fatal: " << old.status().message() << "\n";
      return kExitError;
    }
    if (old->empty()) {
      if (!ro.quiet) std::cout << "no old cache dirs found\n";
      return kExitOk;
    }
    if (!ro.quiet) std::cout << "remove " << old->size() << " old cache directories\n";
    for (const std::string& name : *old) {
      Status s = backend::RemoveTree(base + "/" + name);
      if (!s.ok())
        std::cerr << "unable to remove " << base << "/" << name << ": " << s.message() << "\n";
    }
    return kExitOk;
  }
  // Every cache directory: OldCacheDirs with no age limit lists them all.
  auto all = backend::OldCacheDirs(base, clock.Now() + std::chrono::hours(24 * 365 * 100),
                                   Duration::zero());
  if (!all.ok() || all->empty()) {
    std::cout << "no cache dirs found, basedir is " << base << "\n";
    return kExitOk;
  }
  struct Entry {
    std::string name;
    time_t mtime;
  };
  std::vector<Entry> dirs;
  for (const std::string& name : *all) {
    struct stat st {};
    if (::stat((base + "/" + name).c_str(), &st) == 0) dirs.push_back({name, st.st_mtime});
  }
  std::sort(dirs.begin(), dirs.end(),
            [](const Entry& a, const Entry& b) { return a.mtime < b.mtime; });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Repo ID", "Last Used", "Old"});
  if (!f.no_size) rows.front().push_back("Size");
  const time_t now = std::chrono::system_clock::to_time_t(clock.Now());
  for (const Entry& e : dirs) {
    const bool is_check = e.name.rfind("restic-check-cache-", 0) == 0;
    const double age_days = static_cast<double>(now - e.mtime) / 86400.0;
    std::vector<std::string> row = {
        is_check ? e.name : e.name.substr(0, 10),
        std::to_string(static_cast<unsigned>(std::max(0.0, age_days))) + " days ago",
        now - e.mtime > std::chrono::duration_cast<std::chrono::seconds>(max_age).count() ? "yes"
                                                                                          : ""};
    if (!f.no_size) {
      std::string size = FormatBytes(DirSize(fs::path(base) / e.name));
      row.push_back(std::string(size.size() < 11 ? 11 - size.size() : 0, ' ') + size);
    }
    rows.push_back(std::move(row));
  }
  PrintTable(rows);
  std::cout << dirs.size() << " cache dirs in " << base << "\n";
  return kExitOk;
}

}  // namespace

void RegisterCache(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto f = std::make_shared<CacheFlags>();
  auto args = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("cache", "Operate on local cache directories");
  cmd->add_flag("--cleanup", f->cleanup, "remove old cache directories");
  cmd->add_option("--max-age", f->max_age_days,
                  "max age in days for cache directories to be considered old")
      ->capture_default_str();
  cmd->add_flag("--no-size", f->no_size, "do not output the size of the cache directories");
  cmd->add_option("args", *args)->group("");
  cmd->callback([ro, f, args, exit_code] { *exit_code = RunCache(*ro, *f, *args); });
}

}  // namespace stash::cli
