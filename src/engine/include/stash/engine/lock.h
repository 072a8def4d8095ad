// Repository locks in restic's format and protocol (locks/<id>), so stash and
// restic 0.14 exclude each other: shared locks for backup/restore/check/ls…,
// exclusive ones for forget/prune.
//
// Taking a lock (restic's newLock): look for conflicting locks, write ours,
// wait 200 ms (only for stores that may list a new file late), look again; on
// a conflict remove ours and fail with an error that names the holder (pid,
// host, user, age) and suggests `stash unlock`.
// An exclusive request conflicts with every lock; a shared one with exclusive
// locks only. Unreadable lock files are ignored (as 0.14 does). Stale locks
// are NOT skipped (as restic): they block until `unlock` removes them.
//
// While held, a background thread refreshes the lock every 5 minutes (new
// file with a new time, then the old one removed), sleeping on the injected
// Clock. Stale: older than 30 minutes, or written on this host by a process
// that no longer exists.
//
//   STASH_ASSIGN_OR_RETURN(ScopedLock lock,
//                          ScopedLock::Acquire(repo, LockMode::kShared, clock));
//   ...                          // the lock is released when `lock` goes away
//
// Thread-safety: a ScopedLock may be moved between threads; its own refresh
// thread is internal. The free functions are safe to call concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/lock.h"
#include "stash/repo/repository.h"

namespace stash::engine {

enum class LockMode { kShared, kExclusive };

inline constexpr Duration kLockStaleAfter = std::chrono::minutes(30);
inline constexpr Duration kLockRefreshEvery = std::chrono::minutes(5);

// Who takes the lock. Current() reads this process's pid, host, user, uid/gid.
struct LockOwner {
  std::string hostname;
  std::string username;
  int64_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  static LockOwner Current();
};

struct LockTiming {
  Duration settle = std::chrono::milliseconds(200);  // wait before re-checking
  Duration refresh = kLockRefreshEvery;
  // Newer restic's --retry-lock: while a conflicting lock is held, try again
  // (after 200 ms, doubling up to 5 s) until this much time has passed; zero
  // fails at once. A reader's short lock then delays a prune instead of
  // failing it.
  Duration retry = Duration::zero();
};

// Work a caller overlaps with taking the lock, so that a store's round trips
// and restic's settle wait are not spent idle. Each may run once per attempt
// (Acquire retries on a conflict), or never; neither may take the lock's
// Clock to sleep.
struct LockHooks {
  // Runs during the settle wait (on stores that may list late): only reads
  // whose results the caller checks again once the lock is held (a prune may
  // finish meanwhile).
  std::function<void()> while_settling;
  // Runs on another thread once the settle wait is over (or at once, on
  // stores that list at once), concurrently with the last look for
  // conflicting locks: reads that are valid under the lock. Its results count
  // only if that attempt returns the lock; Acquire waits for it either way.
  std::function<void()> once_settled;
};

class ScopedLock {
 public:
  // Takes the lock or fails with kConflict (someone else holds a conflicting
  // lock, still after timing.retry; the message names it and suggests
  // `stash unlock`), or the backend's error; every message starts with
  // restic's "unable to create lock in backend: ", to be printed as is. `clock` and `repo` must
  // outlive the lock. `hooks` overlap the caller's reads with the wait (above).
  static Result<ScopedLock> Acquire(repo::Repository& repo, LockMode mode, Clock& clock,
                                    const LockOwner& owner = LockOwner::Current(),
                                    const LockTiming& timing = {}, const LockHooks& hooks = {});

  ScopedLock();
  ScopedLock(ScopedLock&&) noexcept;
  ScopedLock& operator=(ScopedLock&&) noexcept;
  ~ScopedLock();

  bool held() const { return state_ != nullptr; }
  // The current lock file (changes on every refresh).
  Id id() const;
  // Stops refreshing and removes the lock file. Idempotent.
  Status Release();

  struct State;

 private:
  // One attempt (no retry).
  static Result<ScopedLock> TryAcquire(repo::Repository& repo, LockMode mode, Clock& clock,
                                       const LockOwner& owner, const LockTiming& timing,
                                       const LockHooks& hooks);
  std::unique_ptr<State> state_;
};

struct LockInfo {
  Id id;
  format::Lock lock;
};

// Every readable lock of the repository (empty files and unreadable ones are
// skipped), but `skip` (one's own lock, not worth a download).
Result<std::vector<LockInfo>> ListLocks(repo::Repository& repo,
                                        const std::optional<Id>& skip = std::nullopt);

// restic's Lock.Stale(): older than 30 minutes at `now`, or from `this_host`
// and its pid is not a running process here.
bool IsStale(const format::Lock& lock, SystemTime now, const std::string& this_host);

// "PID 123 on host by user (UID 0, GID 0)\nlock was created at 2026-11-26
// 07:00:00 (5m3s ago)\nstorage ID 1a2b3c4d", as restic describes a lock.
std::string DescribeLock(const LockInfo& info, SystemTime now);

// `unlock`: removes stale locks, or every lock with `remove_all`. Returns how
// many files were removed.
Result<int> RemoveLocks(repo::Repository& repo, bool remove_all, SystemTime now,
                        const std::string& this_host);

}  // namespace stash::engine
