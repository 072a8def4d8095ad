// `stash backup`: restic's backup verb — flags, human and --json output, a
// live progress line on a terminal, exit code 3 when some source files could
// not be read.
#include <malloc.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cmd_backup_sources.h"
#include "commands.h"
#include "restic_options.h"
#include "stash/cli/app.h"
#include "stash/core/units.h"
#include "stash/engine/backup.h"
#include "stash/engine/backup_summary.h"
#include "stash/engine/filter.h"
#include "stash/engine/lock.h"
#include "stash/engine/progress.h"
#include "stash/engine/prune.h"

namespace stash::cli {

namespace {

struct BackupFlags {
  std::vector<std::string> paths;
  std::string host;
  std::vector<std::string> tags;
  std::string time;
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_files;
  std::vector<std::string> iexcludes;
  std::vector<std::string> iexclude_files;
  std::vector<std::string> exclude_if_present;
  bool exclude_caches = false;
  std::string exclude_larger_than;
  TargetSources sources;
  bool stdin = false;
  std::string stdin_filename = "stdin";
  bool one_file_system = false;
  bool ignore_inode = false;
  bool ignore_ctime = false;
  bool dry_run = false;
  std::string parent;
  bool force = false;
  bool with_atime = false;
  int read_concurrency = 0;
};

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// "open /x: Permission denied" → "open /x: permission denied", as Go prints.
std::string GoStyle(std::string msg) {
  size_t p = msg.rfind(": ");
  if (p != std::string::npos && p + 2 < msg.size()) {
    msg[p + 2] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[p + 2])));
  }
  return msg;
}

// restic's --time format "2006-01-02 15:04:05" in local time.
std::optional<SystemTime> ParseTime(const std::string& s) {
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (!end || *end) return std::nullopt;
  tm.tm_isdst = -1;
  time_t t = mktime(&tm);
  return std::chrono::system_clock::from_time_t(t);
}

// Prints progress while the backup runs, as restic 0.14: JSON "status"
// messages (--json) or, on a terminal, the status line with the files being
// read below it, redrawn in place. RESTIC_PROGRESS_FPS sets the rate (default
// 60 per second, printing only when something changed, and at least once a
// second for JSON).
class ProgressPrinter {
 public:
  ProgressPrinter(const engine::BackupProgress& p, Clock& clock, bool json, bool tty)
      : json_(json), tty_(tty) {
    if (!json_ && !tty_) return;
    auto interval = engine::ProgressIntervalFromFps(
        std::getenv("RESTIC_PROGRESS_FPS") ? std::getenv("RESTIC_PROGRESS_FPS") : "");
    reporter_.emplace(p, clock, interval.value_or(Duration(std::chrono::seconds(1)) / 60),
                      [this](const engine::ProgressReport& r) { Print(r); });
  }
  ~ProgressPrinter() { Stop(); }
  void Stop() {
    if (reporter_) reporter_->Stop();
    reporter_.reset();
    if (tty_ && lines_ > 0) std::cout << Rewind() << "\033[J" << std::flush;
    lines_ = 0;
  }
  // A line of its own on stdout, not mixed into a progress line.
  void Line(const std::string& text) {
    std::lock_guard lock(mu_);
    if (tty_ && lines_ > 0) std::cout << Rewind() << "\033[J";
    lines_ = 0;
    std::cout << text << "\n" << std::flush;
  }

 private:
  void Print(const engine::ProgressReport& r) {
    std::lock_guard lock(mu_);
    std::string line = json_ ? engine::FormatStatusJson(r) : engine::FormatStatusLine(r);
    if (!json_) {
      for (const std::string& f : r.current_files) line += "\n" + f;
    }
    const auto now = std::chrono::steady_clock::now();
    if (line == last_ && (!json_ || now - last_at_ < std::chrono::seconds(1))) return;
    last_ = line;
    last_at_ = now;
    if (json_) {
      std::cout << line << "\n" << std::flush;
      return;
    }
    // Redraw the block: back to its first line, each line cleared and cut to
    // the terminal's width (a wrapped line would break the cursor count).
    winsize ws{};
    const size_t width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 0;
    std::string out = Rewind();
    int n = 0;
    for (size_t at = 0; at <= line.size();) {
      size_t nl = line.find('\n', at);
      if (nl == std::string::npos) nl = line.size();
      std::string one = line.substr(at, nl - at);
      if (width && one.size() > width) one.resize(width);
      out += (n ? "\n" : "") + std::string("\033[2K") + one;
      ++n;
      at = nl + 1;
    }
    out += "\033[J";
    lines_ = n;
    std::cout << out << std::flush;
  }
  std::string Rewind() const {
    std::string s = "\r";
    if (lines_ > 1) s += "\033[" + std::to_string(lines_ - 1) + "A";
    return s;
  }

  const bool json_, tty_;
  std::mutex mu_;  // Print (reporter thread) against Line (the walker's)
  int lines_ = 0;  // lines of the block on screen
  std::string last_;
  std::chrono::steady_clock::time_point last_at_{};
  std::optional<engine::ProgressReporter> reporter_;
};

// --exclude and its relatives; the error of a bad file or size.
std::optional<CliError> AddFilters(const BackupFlags& f, engine::BackupOptions* opts) {
  opts->excludes = f.excludes;
  auto file_excludes = ReadExcludeFiles(f.exclude_files);
  auto ifile_excludes = ReadExcludeFiles(f.iexclude_files);
  for (const auto* r : {&file_excludes, &ifile_excludes}) {
    if (!r->ok()) return CliError{kExitError, "Fatal: " + r->status().message()};
  }
  opts->file_excludes = std::move(*file_excludes);
  opts->iexcludes = f.iexcludes;
  opts->iexcludes.insert(opts->iexcludes.end(), ifile_excludes->begin(), ifile_excludes->end());
  opts->exclude_if_present = f.exclude_if_present;
  if (f.exclude_caches) {
    opts->exclude_if_present.push_back("CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55");
  }
  if (!f.exclude_larger_than.empty()) {
    auto size = engine::ParseSize(f.exclude_larger_than);
    if (!size.ok()) {
      return CliError{kExitError, "Fatal: invalid size \"" + f.exclude_larger_than +
                                      "\" for --exclude-larger-than (a number with k, m, g or t)"};
    }
    opts->exclude_larger_than = *size;
  }
  return std::nullopt;
}

// What to read: stdin or the targets (sources, path map, missing ones skipped).
std::optional<CliError> AddSources(const BackupFlags& f, engine::BackupOptions* opts) {
  if (f.stdin) {
    const char* clash = !f.sources.files_from.empty()            ? "--files-from"
                        : !f.sources.files_from_verbatim.empty() ? "--files-from-verbatim"
                        : !f.sources.files_from_raw.empty()      ? "--files-from-raw"
                                                                 : nullptr;
    if (clash) {
      return CliError{kExitError,
                      std::string("Fatal: --stdin and ") + clash + " cannot be used together"};
    }
    if (!f.paths.empty()) {
      return CliError{kExitError,
                      "Fatal: --stdin was specified and files/dirs were listed as arguments"};
    }
    opts->stdin_fd = STDIN_FILENO;
    opts->stdin_filename = f.stdin_filename;
  } else {
    auto targets =
        CollectTargets(f.sources, f.paths, [](const std::string& w) { std::cerr << w << "\n"; });
    if (!targets.ok()) return CliError{kExitError, "Fatal: " + targets.status().message()};
    opts->paths = std::move(*targets);
    if (opts->paths.empty()) {
      return CliError{kExitError, "Fatal: nothing to backup, please specify target files/dirs"};
    }
  }
  // The embedded node runs this as a container: read through its mounts,
  // record the container paths.
  auto path_map = engine::PathMap::FromEnvironment();
  if (!path_map.ok()) return CliError{kExitError, "Fatal: " + path_map.status().message()};
  opts->path_map = std::move(*path_map);
  // As restic: missing targets are skipped with a warning, none left is fatal.
  std::vector<std::string> existing;
  for (const std::string& p : opts->paths) {
    struct stat st {};
    if (lstat(opts->path_map.TargetOnHost(p).c_str(), &st) != 0) {
      std::cerr << p << " does not exist, skipping\n";
      continue;
    }
    existing.push_back(p);
  }
  if (existing.empty() && !f.stdin) {
    return CliError{kExitError, "Fatal: all target directories/files do not exist"};
  }
  opts->paths = std::move(existing);
  return std::nullopt;
}

// The engine's options from the command line (sources, filters, host, tags,
// time); prints nothing but the skipped targets.
std::variant<engine::BackupOptions, CliError> BuildOptions(const ResticContext& ctx,
                                                           const BackupFlags& f) {
  engine::BackupOptions opts;
  if (auto e = AddSources(f, &opts)) return *e;
  opts.hostname = f.host;
  if (opts.hostname.empty()) {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    opts.hostname = buf;
  }
  opts.username = ctx.repo_options.username;
  if (opts.username.empty()) {
    struct passwd pw {};
    struct passwd* res = nullptr;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res) opts.username = res->pw_name;
  }
  for (const std::string& t : f.tags) {
    std::stringstream ss(t);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (!part.empty()) opts.tags.push_back(part);
    }
  }
  if (!f.time.empty()) {
    opts.time = ParseTime(f.time);
    if (!opts.time) {
      return CliError{kExitError, "Fatal: unable to parse time \"" + f.time +
                                      "\": use the format \"2006-01-02 15:04:05\""};
    }
  }
  if (auto e = AddFilters(f, &opts)) return *e;
  opts.one_file_system = f.one_file_system && !f.stdin;
  opts.ignore_inode = f.ignore_inode;
  opts.ignore_ctime = f.ignore_ctime;
  opts.force = f.force;
  opts.with_atime = f.with_atime;
  if (f.read_concurrency > 0) opts.read_concurrency = f.read_concurrency;
  return opts;
}

// restic's writers of the unreadable-file errors and warnings (stderr).
void AddErrorWriters(bool json, std::mutex* out_mu, engine::BackupOptions* opts,
                     engine::BackupErrorFn* on_error) {
  *on_error = [json, out_mu](const std::string& path, const Status& s) {
    std::lock_guard lock(*out_mu);
    if (json) {
      std::cerr << "{\"message_type\":\"error\",\"error\":{\"message\":"
                << JsonString(GoStyle(s.message()))
                << "},\"during\":\"archival\",\"item\":" << JsonString(path) << "}\n";
    } else {
      std::cerr << "error: " << GoStyle(s.message()) << "\n";
    }
  };
  // Plain lines on stderr, with or without --json, as restic 0.14 prints them.
  opts->on_warning = [out_mu](const std::string& message) {
    std::lock_guard lock(*out_mu);
    std::cerr << message << "\n";
  };
}

// --parent, and the shared lock restic's backup takes (prune/forget, stash's
// or restic's, wait for it instead of deleting packs this backup still needs);
// an exit code on failure.
std::optional<int> ParentAndLock(const ResticOptions& ro, const ResticContext& ctx,
                                 const BackupFlags& f, repo::Repository& repo, Clock& clock,
                                 engine::BackupOptions* opts, engine::ScopedLock* lock) {
  if (!f.parent.empty()) {
    auto id = repo.ResolvePrefix(backend::FileType::kSnapshot, f.parent);
    if (!id.ok()) {
      std::cerr << "Fatal: invalid id \"" << f.parent << "\": " << id.status().message() << "\n";
      return kExitError;
    }
    opts->parent = *id;
  }
  if (ro.no_lock) return std::nullopt;
  auto l = engine::LockForBackup(repo, clock, engine::LockOwner::Current(), ctx.lock_timing, opts);
  if (!l.ok()) {
    std::cerr << l.status().message() << "\n";  // as restic: no "Fatal: "
    return kExitError;
  }
  *lock = std::move(l).value();
  return std::nullopt;
}

int RunBackup(const ResticOptions& ro, const BackupFlags& f) {
  auto ctx_or = ResolveResticContext(ro);
  if (auto rc = ReportCliError(ctx_or)) return *rc;
  ResticContext& ctx = std::get<ResticContext>(ctx_or);
  ctx.dry_run = f.dry_run;
  auto opts_or = BuildOptions(ctx, f);
  if (auto rc = ReportCliError(opts_or)) return *rc;
  engine::BackupOptions& opts = std::get<engine::BackupOptions>(opts_or);
  std::atomic<uint64_t> opens{0};
  const bool count_reads = getenv("STASH_DEBUG_COUNT_READS") != nullptr;
  if (count_reads) opts.content_opens = &opens;

  auto repo_or = OpenRepository(ctx);
  if (auto rc = ReportCliError(repo_or)) return *rc;
  auto& repo = std::get<std::unique_ptr<repo::Repository>>(repo_or);
  RealClock clock;
  engine::ScopedLock lock;
  if (auto rc = ParentAndLock(ro, ctx, f, *repo, clock, &opts, &lock)) return *rc;

  const bool human = !ro.json && !ro.quiet;
  std::mutex out_mu;
  engine::BackupErrorFn on_error;
  AddErrorWriters(ro.json, &out_mu, &opts, &on_error);
  // Packs and chunks are large, short-lived buffers freed by other threads:
  // keep them mmap'ed so freeing returns the memory (glibc would otherwise
  // raise its mmap threshold and keep them in per-thread arenas).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  engine::BackupProgress progress;
  std::optional<ProgressPrinter> printer;
  printer.emplace(progress, clock, ro.json && !ro.quiet, human && isatty(STDOUT_FILENO));
  // The parent the engine picks (one search, one time bound), said as restic
  // says it before reading files.
  if (human && !f.stdin) {
    opts.on_parent = [&](const std::optional<Id>& parent) {
      printer->Line(parent ? "using parent snapshot " + parent->ShortHex()
                           : "no parent snapshot found, will read all files");
    };
  }
  auto stats = engine::Backup(*repo, opts, clock, &progress, on_error);
  printer.reset();
  if (!stats.ok()) {
    std::cerr << "Fatal: unable to save snapshot: " << stats.status().message() << "\n";
    return kExitError;
  }
  if (count_reads) std::cerr << "stash-debug: content opens: " << opens.load() << "\n";
  if (ro.json || !ro.quiet) {
    std::cout << engine::FormatBackupSummary(
        *stats, ro.json ? engine::SummaryFormat::kJson : engine::SummaryFormat::kText, f.dry_run);
  }
  if (stats->errors > 0) {
    std::cerr << "Warning: at least one source file could not be read\n";
    return kExitIncomplete;
  }
  return kExitOk;
}

}  // namespace

void RegisterBackup(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto f = std::make_shared<BackupFlags>();
  auto* cmd = app.add_subcommand("backup", "Create a new backup of files and/or directories");
  cmd->add_option("paths", f->paths, "Files and directories to back up");
  cmd->add_option("-H,--host", f->host, "Set the hostname for the snapshot");
  cmd->add_option("--tag", f->tags, "Add tags for the new snapshot (comma-separated or repeated)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--time", f->time, "Time of the backup (ex. '2012-11-01 22:08:41')");
  cmd->add_option("-e,--exclude", f->excludes, "Exclude a pattern (can be repeated)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--exclude-file", f->exclude_files, "Read exclude patterns from a file")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  auto multi = [&](const std::string& name, std::vector<std::string>& into,
                   const std::string& help) {
    cmd->add_option(name, into, help)
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
  };
  multi("--files-from", f->sources.files_from,
        "Read the files to back up from a file (globs, # comments; - for stdin)");
  multi("--files-from-verbatim", f->sources.files_from_verbatim,
        "Read the files to back up from a file, one name per line as is");
  multi("--files-from-raw", f->sources.files_from_raw,
        "Read the files to back up from a file of NUL-terminated names");
  multi("--iexclude", f->iexcludes, "Same as --exclude but ignores the casing of filenames");
  multi("--iexclude-file", f->iexclude_files,
        "Same as --exclude-file but ignores casing of filenames in patterns");
  multi("--exclude-if-present", f->exclude_if_present,
        "Exclude the contents of directories containing filename[:header] (can be repeated)");
  cmd->add_flag("--exclude-caches", f->exclude_caches,
                "Exclude directories marked with a CACHEDIR.TAG file");
  cmd->add_option("--exclude-larger-than", f->exclude_larger_than,
                  "Max size of the files to be backed up (suffixes k/K, m/M, g/G, t/T)");
  cmd->add_flag("-x,--one-file-system", f->one_file_system,
                "Exclude other file systems, don't cross file system boundaries");
  cmd->add_flag("--stdin", f->stdin, "Read the backup from stdin");
  cmd->add_option("--stdin-filename", f->stdin_filename,
                  "Filename to use when reading from stdin (default \"stdin\")");
  cmd->add_flag("-n,--dry-run", f->dry_run,
                "Do not upload or write any data, just show what would be done");
  cmd->add_flag("--ignore-inode", f->ignore_inode,
                "Ignore inode number changes when checking for modified files");
  cmd->add_flag("--ignore-ctime", f->ignore_ctime,
                "Ignore ctime changes when checking for modified files");
  cmd->add_option("--parent", f->parent, "Use this parent snapshot (default: latest matching)");
  cmd->add_flag("-f,--force", f->force, "Force re-reading the target files");
  cmd->add_flag("--with-atime", f->with_atime, "Store the atime for all files and directories");
  cmd->add_option("--read-concurrency", f->read_concurrency, "Read n files concurrently");
  cmd->callback([ro, f, exit_code] { *exit_code = RunBackup(*ro, *f); });
}

}  // namespace stash::cli
