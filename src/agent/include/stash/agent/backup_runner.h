// BackupRunner: the seam between the sidecar and a backup engine. The
// sidecar opens a repository once per BackupSession (RepositorySession) and
// asks it to back up each path, apply the retention policy, check the
// repository and size it; results are structs (engine::BackupStats, ...) and
// errors keep their codes and retryable bit.
//
// Two implementations:
//  - EngineBackupRunner (engine_runner.h): stash's own engine in this
//    process: one key derivation and one index load per session, no child
//    process. The default.
//  - CliBackupRunner (below): drives a restic-compatible binary (restic
//    itself, `--backup-engine=/usr/bin/restic`) through its verbs and --json
//    output, as Stash drives restic. Its errors come from the binary's exit
//    code and text, so their codes are coarser.
//
// Thread-safety: a runner may open sessions from several threads; one
// RepositorySession is used by one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "stash/agent/process.h"
#include "stash/apis/stash_common.h"
#include "stash/core/result.h"
#include "stash/engine/backup.h"
#include "stash/engine/path_map.h"
#include "stash/engine/progress.h"

namespace stash::agent {

// How long a session's steps wait for another process's conflicting lock
// (newer restic's --retry-lock): a reader's short lock, or another
// configuration's backup of a shared repository, delays a forget or prune
// instead of failing the session.
inline constexpr std::chrono::minutes kLockRetry{2};

// A repository and the environment that opens it (RESTIC_PASSWORD, cloud
// credentials from the storage Secret).
struct RepoTarget {
  std::string url;
  EnvMap env;
  std::string local_dir;  // for local backends: created before init
};

// One `backup` of some paths.
struct BackupRequest {
  std::string host;                // the snapshot's hostname (host-0, an alias, ...)
  std::vector<std::string> paths;  // as the container sees them
  std::vector<std::string> excludes;
  engine::PathMap path_map;  // where the paths are on this host (empty in a real pod)
  // Called now and then while the backup runs (from another thread), and
  // once at its end: files and bytes done and in total, rate, time left.
  std::function<void(const engine::ProgressReport&)> on_progress;
};

struct RetentionResult {
  int64_t kept = 0, removed = 0;
};

struct RepoStats {
  uint64_t total_size = 0;  // stored bytes of what the snapshots reference (raw-data)
  int64_t snapshot_count = 0;
};

// One opened repository, for the steps of one BackupSession.
class RepositorySession {
 public:
  virtual ~RepositorySession() = default;
  // True when Open initialised the repository.
  bool created() const { return created_; }
  // A snapshot of `request.paths`. stats.errors > 0: some source files could
  // not be read and the snapshot lacks them.
  virtual Result<engine::BackupStats> Backup(const BackupRequest& request) = 0;
  // Stash's retention policy (restic forget --keep-* [--prune] [--dry-run]).
  virtual Result<RetentionResult> ApplyRetention(const apis::RetentionPolicy& policy) = 0;
  // kDataLoss naming the problems when the repository has errors.
  virtual Status Check() = 0;
  virtual Result<RepoStats> Stats() = 0;

 protected:
  explicit RepositorySession(bool created) : created_(created) {}

 private:
  const bool created_;
};

class BackupRunner {
 public:
  virtual ~BackupRunner() = default;
  // Opens the repository, initialising it when there is none. kUnauthorized
  // for a wrong password.
  virtual Result<std::unique_ptr<RepositorySession>> Open(const RepoTarget& repo) = 0;
  // Removes stale locks (left by a killed backup on this host).
  virtual Status Unlock(const RepoTarget& repo) = 0;
};

class CliBackupRunner final : public BackupRunner {
 public:
  // `binary`: the restic-compatible executable. `extra_env` goes to every
  // command (STASH_MAX_CONNECTIONS, ...). `cancel` set: running commands get
  // SIGTERM.
  explicit CliBackupRunner(std::string binary, EnvMap extra_env = {},
                           const std::atomic<bool>* cancel = nullptr);

  Result<std::unique_ptr<RepositorySession>> Open(const RepoTarget& repo) override;
  Status Unlock(const RepoTarget& repo) override;

  // Global flags put before every verb: the cache settings, as Stash gives
  // restic "--cache-dir DIR" or "--no-cache" (the default) on every call.
  void SetGlobalArgs(std::vector<std::string> args) { global_args_ = std::move(args); }

  // Runs `binary args...` with the repository in the environment; `on_line`
  // gets each line of stdout as it comes.
  Result<ProcessResult> Run(const RepoTarget& repo, const std::vector<std::string>& args,
                            const EnvMap& env = {},
                            const std::function<void(std::string_view)>& on_line = {}) const;
  // stash's engine honours STASH_PATH_MAP; another (restic) is given host paths.
  bool EngineReadsPathMap() const;

 private:
  std::string binary_;
  std::vector<std::string> global_args_ = {"--no-cache"};
  EnvMap extra_env_;
  const std::atomic<bool>* cancel_;
};

// The last non-empty stderr lines, as one message (Stash's formatError).
std::string ErrorText(const ProcessResult& r);

}  // namespace stash::agent
