// LockForBackup: the lock a backup takes, with its first reads overlapped.
#include <optional>

#include "stash/engine/backup.h"

namespace stash::engine {

Result<ScopedLock> LockForBackup(repo::Repository& repo, Clock& clock, const LockOwner& owner,
                                 const LockTiming& timing, BackupOptions* opts) {
  std::optional<BackupPreload> preload;
  // What the last attempt's check found: Acquire retries on a conflict, and
  // only the attempt that returns the lock counts (a prune may have
  // replaced the index between two attempts).
  Status confirm_status;
  BackupOptions confirmed;
  LockHooks hooks;
  hooks.while_settling = [&] {
    if (!preload) preload = PreloadBackup(repo, *opts, clock.Now());
  };
  hooks.once_settled = [&] {
    confirm_status = Status::Ok();
    confirmed.index_loaded = false;
    confirmed.parent = opts->parent;
    if (preload) confirm_status = ConfirmPreload(repo, *preload, &confirmed);
  };
  STASH_ASSIGN_OR_RETURN(ScopedLock lock,
                         ScopedLock::Acquire(repo, LockMode::kShared, clock, owner, timing, hooks));
  if (!confirm_status.ok()) return std::move(confirm_status).Prepend("listing index files");
  opts->index_loaded = confirmed.index_loaded;
  opts->parent = confirmed.parent;
  return lock;
}

}  // namespace stash::engine
