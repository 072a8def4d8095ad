// EngineBackupRunner: the sidecar's backups on stash's own engine, inside
// the sidecar's process. A RepositorySession is one opened repository (one
// key derivation, one index load) used for every step of a BackupSession:
// the backup of each path under restic's shared lock, the retention policy
// (forget, and prune when asked) under its exclusive lock, `check` and the
// size (raw-data stats). No `stash` or restic child process is started.
// Errors are the engine's own Status (a wrong password is kUnauthorized, a
// lock held by another kConflict, a lost connection retryable kUnavailable).
//
// Thread-safety: Open and Unlock may be called from several threads; a
// session is used by one thread at a time.
#pragma once

#include <memory>

#include "stash/agent/backup_runner.h"
#include "stash/agent/process.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/repo/repository.h"

namespace stash::agent {

struct EngineRunnerOptions {
  // What every store sees (STORAGE_EMULATOR_HOST, CA settings: the process
  // environment); each repository's Secret keys go on top.
  EnvMap base_env;
  // Repository options for new keys and packs (tests lower the scrypt cost).
  repo::Options repo;
  // restic's local cache (snapshots, index files, tree packs) in this
  // directory, shared with later sessions; empty: none.
  std::string cache_dir;
  // Set (from any thread): a running backup stops without a snapshot
  // (SIGTERM, a session past its deadline).
  const std::atomic<bool>* cancel = nullptr;
};

class EngineBackupRunner final : public BackupRunner {
 public:
  EngineBackupRunner(Clock& clock, Random& random, EngineRunnerOptions opts = {});

  Result<std::unique_ptr<RepositorySession>> Open(const RepoTarget& repo) override;
  Status Unlock(const RepoTarget& repo) override;

 private:
  Clock& clock_;
  Random& random_;
  EngineRunnerOptions opts_;
};

}  // namespace stash::agent
