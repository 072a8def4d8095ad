#include "stash/engine/lock.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <future>
#include <mutex>
#include <thread>

namespace stash::engine {

namespace {

using backend::FileType;

// Go's time.Duration.String() for non-negative durations ("1h2m3.5s", "250ms").
std::string GoDuration(Duration d) {
  int64_t ns = d.count();
  std::string sign;
  if (ns < 0) {
    sign = "-";
    ns = -ns;
  }
  if (ns == 0) return "0s";
  auto frac = [](int64_t v, int64_t unit, int digits) {
    std::string s = std::to_string(v / unit);
    int64_t rest = v % unit;
    if (rest != 0) {
      std::string f = std::to_string(rest);
      f.insert(0, digits - f.size(), '0');
      while (f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (ns < 1000) return sign + std::to_string(ns) + "ns";
  if (ns < 1000000) return sign + frac(ns, 1000, 3) + "µs";
  if (ns < 1000000000) return sign + frac(ns, 1000000, 6) + "ms";
  const int64_t h = ns / 3600000000000;
  const int64_t m = ns / 60000000000 % 60;
  std::string s = sign;
  if (h > 0) s += std::to_string(h) + "h";
  if (h > 0 || m > 0) s += std::to_string(m) + "m";
  return s + frac(ns % 60000000000, 1000000000, 9) + "s";
}

std::string TimeInOwnOffset(const format::Timestamp& t) {
  time_t shifted = static_cast<time_t>(t.unix_sec + t.utc_offset_sec);
  struct tm tm {};
  gmtime_r(&shifted, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool Conflicts(LockMode mode, const format::Lock& other) {
  return mode == LockMode::kExclusive || other.exclusive;
}

// The first lock (other than `ours`) that conflicts with `mode`.
Result<std::optional<LockInfo>> FindConflict(repo::Repository& repo, LockMode mode,
                                             const std::optional<Id>& ours) {
  STASH_ASSIGN_OR_RETURN(std::vector<LockInfo> locks, ListLocks(repo, ours));
  for (LockInfo& l : locks) {
    if (Conflicts(mode, l.lock)) return std::optional<LockInfo>(std::move(l));
  }
  return std::optional<LockInfo>();
}

Status AlreadyLocked(const LockInfo& other, SystemTime now) {
  return ConflictError("unable to create lock in backend: repository is already locked " +
                       std::string(other.lock.exclusive ? "exclusively " : "") + "by " +
                       DescribeLock(other, now) +
                       "\nthe `unlock` command can be used to remove stale locks");
}

}  // namespace

LockOwner LockOwner::Current() {
  LockOwner o;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) o.hostname = host;
  o.pid = getpid();
  o.uid = getuid();
  o.gid = getgid();
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[4096];
  if (getpwuid_r(o.uid, &pw, buf, sizeof buf, &res) == 0 && res != nullptr) o.username = pw.pw_name;
  return o;
}

struct ScopedLock::State {
  repo::Repository* repo = nullptr;
  Clock* clock = nullptr;
  LockTiming timing;
  format::Lock lock;
  std::mutex mu;
  Id id;  // guarded by mu
  bool stop = false;
  std::atomic<bool> exited{false};
  std::thread refresher;

  Status Write() {
    lock.time = format::LocalTimestamp(clock->Now());
    STASH_ASSIGN_OR_RETURN(Id new_id,
                           repo->SaveUnpacked(FileType::kLock, format::EncodeLock(lock)));
    std::lock_guard<std::mutex> g(mu);
    id = new_id;
    return Status::Ok();
  }

  void RefreshLoop() {
    SystemTime next = clock->Now() + timing.refresh;
    for (;;) {
      clock->SleepUntil(next);
      {
        std::lock_guard<std::mutex> g(mu);
        if (stop) {
          exited = true;
          return;
        }
      }
      if (clock->Now() < next) continue;  // woken by someone else's Interrupt()
      next = clock->Now() + timing.refresh;
      const Id old = CurrentId();
      if (Status s = Write(); !s.ok()) {
        spdlog::warn("refreshing lock {}: {} (retrying in {}s)", old.ShortHex(), s.message(),
                     std::chrono::duration_cast<std::chrono::seconds>(timing.refresh).count());
        continue;
      }
      Status s = repo->backend().Remove({FileType::kLock, old.Hex()});
      if (!s.ok()) spdlog::warn("removing old lock {}: {}", old.ShortHex(), s.message());
    }
  }

  Id CurrentId() {
    std::lock_guard<std::mutex> g(mu);
    return id;
  }
};

Result<ScopedLock> ScopedLock::Acquire(repo::Repository& repo, LockMode mode, Clock& clock,
                                       const LockOwner& owner, const LockTiming& timing,
                                       const LockHooks& hooks) {
  const SystemTime deadline = clock.Now() + timing.retry;
  Duration wait = std::chrono::milliseconds(200);
  bool told = false;
  for (;;) {
    Result<ScopedLock> l = TryAcquire(repo, mode, clock, owner, timing, hooks);
    if (l.ok()) return l;
    // Every failure reads as restic's (a conflict's message has it already).
    if (l.status().code() != Code::kConflict) {
      return Status(l.status()).Prepend("unable to create lock in backend");
    }
    const SystemTime now = clock.Now();
    if (now >= deadline) return l;
    if (!told) {
      spdlog::warn("repo already locked, waiting up to {} for the lock", GoDuration(timing.retry));
      told = true;
    }
    // An early wake-up (Interrupt() is a wake-up for every sleeper, e.g. a
    // lock released elsewhere) only means looking again sooner.
    clock.SleepUntil(std::min(deadline, now + wait));
    wait = std::min<Duration>(wait * 2, std::chrono::seconds(5));
  }
}

Result<ScopedLock> ScopedLock::TryAcquire(repo::Repository& repo, LockMode mode, Clock& clock,
                                          const LockOwner& owner, const LockTiming& timing,
                                          const LockHooks& hooks) {
  STASH_ASSIGN_OR_RETURN(auto before, FindConflict(repo, mode, std::nullopt));
  if (before) return AlreadyLocked(*before, clock.Now());

  auto state = std::make_unique<State>();
  state->repo = &repo;
  state->clock = &clock;
  state->timing = timing;
  state->lock.exclusive = mode == LockMode::kExclusive;
  state->lock.hostname = owner.hostname;
  state->lock.username = owner.username;
  state->lock.pid = owner.pid;
  state->lock.uid = owner.uid;
  state->lock.gid = owner.gid;
  STASH_RETURN_IF_ERROR(state->Write());

  // A racing locker's file shows up late only in stores that list late: in
  // the others, whichever of two lockers checks second sees the first.
  if (!repo.backend().ListsSavedFilesAtOnce()) {
    const SystemTime settled = clock.Now() + timing.settle;
    if (hooks.while_settling) hooks.while_settling();
    clock.SleepUntil(settled);
  }
  // One round trip instead of two: the caller's reads under the lock go
  // with the last look for conflicting locks.
  std::future<void> settled_reads;
  if (hooks.once_settled) settled_reads = std::async(std::launch::async, hooks.once_settled);
  auto after = FindConflict(repo, mode, state->id);
  if (settled_reads.valid()) settled_reads.wait();
  if (!after.ok() || *after) {
    repo.backend().Remove({FileType::kLock, state->id.Hex()}).IgnoreError();
    if (!after.ok()) return after.status();
    return AlreadyLocked(**after, clock.Now());
  }
  State* raw = state.get();
  state->refresher = std::thread([raw] { raw->RefreshLoop(); });
  ScopedLock l;
  l.state_ = std::move(state);
  return l;
}

ScopedLock::ScopedLock() = default;
ScopedLock::ScopedLock(ScopedLock&&) noexcept = default;

ScopedLock& ScopedLock::operator=(ScopedLock&& other) noexcept {
  if (this != &other) {
    Release().IgnoreError();
    state_ = std::move(other.state_);
  }
  return *this;
}

ScopedLock::~ScopedLock() { Release().IgnoreError(); }

Id ScopedLock::id() const { return state_ ? state_->CurrentId() : Id(); }

Status ScopedLock::Release() {
  if (!state_) return Status::Ok();
  {
    std::lock_guard<std::mutex> g(state_->mu);
    state_->stop = true;
  }
  if (state_->refresher.joinable()) {
    // Interrupt() only wakes threads already asleep, and the refresher may be
    // between its stop check and its next sleep: repeat until it has left.
    while (!state_->exited) {
      state_->clock->Interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    state_->refresher.join();
  }
  const Id id = state_->CurrentId();
  Status s = state_->repo->backend().Remove({FileType::kLock, id.Hex()});
  state_.reset();
  if (!s.ok() && s.code() != Code::kNotFound) {
    return std::move(s).Prepend("removing lock " + id.ShortHex() +
                                " (remove it with `stash unlock` once this process has ended)");
  }
  return Status::Ok();
}

Result<std::vector<LockInfo>> ListLocks(repo::Repository& repo, const std::optional<Id>& skip) {
  const std::string skipped = skip ? skip->Hex() : "";
  std::vector<std::string> names;
  STASH_RETURN_IF_ERROR(repo.backend().List(FileType::kLock, [&](const backend::FileInfo& fi) {
    if (fi.size > 0 && fi.name != skipped) names.push_back(fi.name);
    return Status::Ok();
  }));
  std::vector<LockInfo> out;
  for (const std::string& name : names) {
    auto id = Id::FromHex(name);
    if (!id.ok()) continue;
    auto json = repo.LoadUnpacked(FileType::kLock, *id);
    if (!json.ok()) continue;  // removed meanwhile, or unreadable: restic 0.14 ignores it
    auto lock = format::DecodeLock(*json);
    if (!lock.ok()) continue;
    out.push_back({*id, std::move(*lock)});
  }
  return out;
}

bool IsStale(const format::Lock& lock, SystemTime now, const std::string& this_host) {
  if (now - format::ToSystemTime(lock.time) > kLockStaleAfter) return true;
  if (lock.hostname != this_host) return false;
  if (lock.pid <= 0) return true;
  if (kill(static_cast<pid_t>(lock.pid), 0) == 0) return false;
  return errno != EPERM;  // EPERM: the process exists under another user
}

std::string DescribeLock(const LockInfo& info, SystemTime now) {
  const format::Lock& l = info.lock;
  return "PID " + std::to_string(l.pid) + " on " + l.hostname + " by " + l.username + " (UID " +
         std::to_string(l.uid) + ", GID " + std::to_string(l.gid) + ")\nlock was created at " +
         TimeInOwnOffset(l.time) + " (" + GoDuration(now - format::ToSystemTime(l.time)) +
         " ago)\nstorage ID " + info.id.ShortHex();
}

Result<int> RemoveLocks(repo::Repository& repo, bool remove_all, SystemTime now,
                        const std::string& this_host) {
  std::vector<Id> victims;
  if (remove_all) {
    STASH_RETURN_IF_ERROR(repo.backend().List(FileType::kLock, [&](const backend::FileInfo& fi) {
      if (auto id = Id::FromHex(fi.name); id.ok()) victims.push_back(*id);
      return Status::Ok();
    }));
  } else {
    STASH_ASSIGN_OR_RETURN(std::vector<LockInfo> locks, ListLocks(repo));
    for (const LockInfo& l : locks) {
      if (IsStale(l.lock, now, this_host)) victims.push_back(l.id);
    }
  }
  int removed = 0;
  for (const Id& id : victims) {
    Status s = repo.backend().Remove({FileType::kLock, id.Hex()});
    if (!s.ok() && s.code() != Code::kNotFound) {
      return std::move(s).Prepend("removing lock " + id.ShortHex());
    }
    if (s.ok()) ++removed;
  }
  return removed;
}

}  // namespace stash::engine
