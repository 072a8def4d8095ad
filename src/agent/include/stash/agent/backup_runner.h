// BackupRunner: the seam between the sidecar and the backup engine. The
// sidecar says what to back up where; the runner does it and reports
// restic-shaped results.
//
// CliBackupRunner drives a restic-compatible command line — by default the
// running `stash` binary itself (`stash -r REPO backup --json ...`), which
// speaks restic's verbs, flags and --json shapes — exactly as Stash drives
// restic. Any restic-compatible binary may be configured instead. A verb the
// engine does not have fails with its message; nothing is reported as done
// that was not.
//
// Thread-safety: implementations are safe to call from several threads for
// different repositories.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stash/agent/process.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/engine/path_map.h"

namespace stash::agent {

// A repository and the environment that opens it (RESTIC_PASSWORD, cloud
// credentials from the storage Secret).
struct RepoTarget {
  std::string url;
  EnvMap env;
  std::string local_dir;  // for local backends: created before init
};

struct SnapshotResult {
  std::string snapshot_id;  // full id
  std::string path;
  uint64_t total_bytes = 0;
  uint64_t data_added = 0;
  double processing_seconds = 0;
  int64_t total_files = 0, new_files = 0, modified_files = 0, unmodified_files = 0;
  bool partial = false;  // some source files could not be read (exit code 3)
};

struct RetentionResult {
  int64_t kept = 0, removed = 0;
};

struct RepoStats {
  uint64_t total_size = 0;
  int64_t snapshot_count = 0;
};

class BackupRunner {
 public:
  virtual ~BackupRunner() = default;

  // restic's --json "status" message of a running Backup (files_done,
  // total_files, bytes_done, total_bytes, percent_done, seconds_remaining),
  // handed to `on_progress` on the thread that called Backup. Empty: none.
  using ProgressFn = std::function<void(const nlohmann::json& status)>;
  void OnProgress(ProgressFn fn) { on_progress_ = std::move(fn); }
  // Opens the repository, initialising it when there is none. Returns true
  // when it was created now. kUnauthorized for a wrong password.
  virtual Result<bool> EnsureRepository(const RepoTarget& repo) = 0;
  // `paths` are as the container sees them; `map` says where they are on
  // this host (empty in a real pod). The snapshot records the container paths
  // when the engine can read through the map.
  virtual Result<SnapshotResult> Backup(const RepoTarget& repo, const std::string& host,
                                        const std::vector<std::string>& paths,
                                        const std::vector<std::string>& excludes,
                                        const engine::PathMap& map) = 0;
  // `policy` is Stash's RetentionPolicy object.
  virtual Result<RetentionResult> ApplyRetention(const RepoTarget& repo,
                                                 const nlohmann::json& policy) = 0;
  virtual Status Check(const RepoTarget& repo) = 0;
  virtual Result<RepoStats> Stats(const RepoTarget& repo) = 0;
  // Removes stale locks (left by a killed backup on this host).
  virtual Status Unlock(const RepoTarget& repo) = 0;

 protected:
  ProgressFn on_progress_;
};

class CliBackupRunner final : public BackupRunner {
 public:
  // `binary` empty: this executable. `extra_env` goes to every command (e.g.
  // the path mapping of the node runtime).
  explicit CliBackupRunner(std::string binary = "", EnvMap extra_env = {},
                           const std::atomic<bool>* cancel = nullptr);

  Result<bool> EnsureRepository(const RepoTarget& repo) override;
  Result<SnapshotResult> Backup(const RepoTarget& repo, const std::string& host,
                                const std::vector<std::string>& paths,
                                const std::vector<std::string>& excludes,
                                const engine::PathMap& map) override;
  Result<RetentionResult> ApplyRetention(const RepoTarget& repo,
                                         const nlohmann::json& policy) override;
  Status Check(const RepoTarget& repo) override;
  Result<RepoStats> Stats(const RepoTarget& repo) override;
  Status Unlock(const RepoTarget& repo) override;

  // An engine without `stats` (stash's own has none yet): Stats then sums the
  // sizes of the repository's files by listing its backend, which needs a
  // clock and randomness for retries. Without this only local repositories
  // can be sized.
  // Global flags put before every verb: the cache settings, as Stash gives
  // restic "--cache-dir DIR" or "--no-cache" (the default) on every call.
  void SetGlobalArgs(std::vector<std::string> args) { global_args_ = std::move(args); }
  void SizeThroughBackend(Clock& clock, Random& random) {
    clock_ = &clock;
    random_ = &random;
  }

 private:
  Result<ProcessResult> Run(const RepoTarget& repo, std::vector<std::string> args,
                            const EnvMap& env = {},
                            const std::function<void(std::string_view)>& on_line = {});
  // stash's engine honours STASH_PATH_MAP; another (restic) is given host paths.
  bool EngineReadsPathMap() const;
  Result<uint64_t> StoredSize(const RepoTarget& repo);

  std::string binary_;
  std::vector<std::string> global_args_ = {"--no-cache"};
  EnvMap extra_env_;
  const std::atomic<bool>* cancel_;
  Clock* clock_ = nullptr;
  Random* random_ = nullptr;
  // Repositories seen to exist: each session need not probe again (a probe
  // opens the repository: a key derivation and a round trip). A failed
  // backup forgets the entry.
  std::mutex mu_;
  std::set<std::string> known_;
};

// Parses the `--json` summary line of a backup (the last line whose
// message_type is "summary").
Result<SnapshotResult> ParseBackupSummary(const std::string& stdout_text);
// Parses `forget --json` output: groups with keep/remove lists.
Result<RetentionResult> ParseForgetOutput(const std::string& stdout_text);
// The last non-empty stderr lines, as one message (Stash's formatError).
std::string ErrorText(const ProcessResult& r);

}  // namespace stash::agent
