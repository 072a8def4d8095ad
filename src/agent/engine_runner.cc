#include "stash/agent/engine_runner.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "stash/agent/repository.h"
#include "stash/engine/check.h"
#include "stash/engine/forget.h"
#include "stash/engine/lock.h"
#include "stash/engine/progress.h"
#include "stash/engine/prune.h"
#include "stash/engine/stats.h"

namespace stash::agent {

namespace {

using engine::LockMode;
using engine::ScopedLock;

// How often a running backup reports its progress to the sidecar.
constexpr Duration kProgressEvery = std::chrono::seconds(1);

class EngineSession final : public RepositorySession {
 public:
  EngineSession(std::shared_ptr<std::atomic<bool>> stop_transfers,
                std::unique_ptr<repo::Repository> repo, bool created, std::string url, Clock& clock,
                Random& random, const std::atomic<bool>* cancel)
      : RepositorySession(created),
        stop_transfers_(std::move(stop_transfers)),
        repo_(std::move(repo)),
        url_(std::move(url)),
        clock_(clock),
        random_(random),
        cancel_(cancel) {}

  Result<engine::BackupStats> Backup(const BackupRequest& request) override;
  Result<RetentionResult> ApplyRetention(const apis::RetentionPolicy& policy) override;
  Status Check() override;
  Result<RepoStats> Stats() override;

 private:
  // Restic's lock of `mode`. On a conflict the stale locks (a killed backup
  // of this host, or older than 30 minutes) are removed, as Stash unlocks a
  // repository a crashed backup left locked; a live holder (another
  // configuration's backup of a shared repository) is waited for, up to
  // kLockRetry.
  // With `backup`, the shared lock of a backup, whose first reads overlap
  // the lock's settle wait (engine::LockForBackup).
  Result<ScopedLock> Lock(LockMode mode, engine::BackupOptions* backup = nullptr);
  Status Prune(const apis::RetentionPolicy& policy, const std::vector<Id>& removed);
  // Runs `backup`; once cancel_ is set meanwhile, the store's transfers in
  // flight stop too (a pack upload to a slow store would otherwise finish
  // first), and are allowed again when it returns (the lock must go).
  Result<engine::BackupStats> StoppingTransfers(
      const std::function<Result<engine::BackupStats>()>& backup);

  // The store's transfers stop while set (the backend polls it): declared
  // before repo_, which holds it, so it outlives the store.
  std::shared_ptr<std::atomic<bool>> stop_transfers_;
  std::unique_ptr<repo::Repository> repo_;
  const std::string url_;
  Clock& clock_;
  Random& random_;
  const std::atomic<bool>* cancel_;
};

Result<ScopedLock> EngineSession::Lock(LockMode mode, engine::BackupOptions* backup) {
  const engine::LockOwner owner = engine::LockOwner::Current();
  auto take = [&](const engine::LockTiming& timing) {
    return backup != nullptr ? engine::LockForBackup(*repo_, clock_, owner, timing, backup)
                             : ScopedLock::Acquire(*repo_, mode, clock_, owner, timing);
  };
  auto lock = take({});
  if (lock.ok() || lock.status().code() != Code::kConflict) return lock;
  auto removed = engine::RemoveLocks(*repo_, /*remove_all=*/false, clock_.Now(), owner.hostname);
  if (removed.ok() && *removed > 0) spdlog::info("removed {} stale lock(s) of {}", *removed, url_);
  engine::LockTiming timing;
  timing.retry = kLockRetry;  // a live holder: wait for it, as the CLI runner does
  return take(timing);
}

Result<engine::BackupStats> EngineSession::Backup(const BackupRequest& request) {
  engine::BackupOptions o;
  o.hostname = request.host;
  o.username = engine::LockOwner::Current().username;
  o.excludes = request.excludes;
  o.path_map = request.path_map;
  // As restic: a missing target is skipped with a warning; none left fails.
  for (const std::string& p : request.paths) {
    struct stat st {};
    if (lstat(o.path_map.TargetOnHost(p).c_str(), &st) == 0) {
      o.paths.push_back(p);
    } else {
      spdlog::warn("{} does not exist, skipping", p);
    }
  }
  if (o.paths.empty()) {
    return NotFoundError("backup to " + url_ +
                         ": all target directories/files do not exist (check the "
                         "BackupConfiguration's paths and volumeMounts)");
  }
  o.on_warning = [](const std::string& w) { spdlog::warn("{}", w); };
  o.cancel = cancel_;
  STASH_ASSIGN_OR_RETURN(ScopedLock lock, Lock(LockMode::kShared, &o));
  engine::BackupProgress progress;
  std::optional<engine::ProgressReporter> reporter;
  if (request.on_progress) {
    reporter.emplace(progress, clock_, kProgressEvery, request.on_progress);
  }
  auto stats = StoppingTransfers([&] {
    return engine::Backup(*repo_, o, clock_, &progress,
                          [](const std::string& path, const Status& s) {
                            spdlog::warn("backup: {}: {}", path, s.message());
                          });
  });
  if (reporter) reporter->Stop(/*final_report=*/true);
  lock.Release().IgnoreError();  // a lock left behind goes stale; the backup is done
  if (!stats.ok()) return Status(stats.status()).Prepend("backup to " + url_);
  return stats;
}

Result<engine::BackupStats> EngineSession::StoppingTransfers(
    const std::function<Result<engine::BackupStats>()>& backup) {
  if (cancel_ == nullptr) return backup();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread relay([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
      if (cancel_->load()) {
        stop_transfers_->store(true);
        return;
      }
    }
  });
  auto stats = backup();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  relay.join();
  stop_transfers_->store(false);
  return stats;
}

Result<RetentionResult> EngineSession::ApplyRetention(const apis::RetentionPolicy& p) {
  engine::ForgetRequest req;
  req.policy.last = int(p.keep_last);
  req.policy.hourly = int(p.keep_hourly);
  req.policy.daily = int(p.keep_daily);
  req.policy.weekly = int(p.keep_weekly);
  req.policy.monthly = int(p.keep_monthly);
  req.policy.yearly = int(p.keep_yearly);
  for (const std::string& tag : p.keep_tags) req.policy.tags.push_back(engine::ParseTagList(tag));
  if (req.policy.Empty()) return RetentionResult{};  // nothing to forget
  const std::string what = "applying retention policy \"" + p.name + "\" to " + url_;
  STASH_ASSIGN_OR_RETURN(ScopedLock lock, Lock(LockMode::kExclusive));
  auto plan = engine::PlanForget(*repo_, req, clock_.Now(),
                                 [](const std::string& w) { spdlog::warn("forget: {}", w); });
  if (!plan.ok()) return Status(plan.status()).Prepend(what);
  RetentionResult r;
  for (const engine::ForgetGroupResult& g : plan->groups) {
    r.kept += int64_t(g.result.keep.size());
    r.removed += int64_t(g.result.remove.size());
  }
  if (!p.dry_run && !plan->remove.empty()) {
    STASH_RETURN_IF_ERROR_CTX(engine::RemoveSnapshots(*repo_, plan->remove), what);
  }
  if (p.prune && !plan->remove.empty()) STASH_RETURN_IF_ERROR_CTX(Prune(p, plan->remove), what);
  STASH_RETURN_IF_ERROR_CTX(lock.Release(), what);
  return r;
}

Status EngineSession::Prune(const apis::RetentionPolicy& p, const std::vector<Id>& removed) {
  auto log = [](int level, const std::string& line) {
    if (level == 0) spdlog::info("prune: {}", line);
  };
  STASH_RETURN_IF_ERROR(repo_->LoadIndex());
  auto plan = engine::PlanPrune(*repo_, engine::PruneOptions{},
                                std::set<Id>(removed.begin(), removed.end()), log);
  if (!plan.ok()) return plan.status();
  if (p.dry_run) return Status::Ok();
  STASH_RETURN_IF_ERROR(engine::ExecutePrune(*repo_, std::move(*plan), log));
  return repo_->LoadIndex();  // the prune replaced index files
}

Status EngineSession::Check() {
  // Exclusive, as restic 0.14's check: under a shared lock it could read
  // another backup's snapshot before that backup's index was saved.
  STASH_ASSIGN_OR_RETURN(ScopedLock lock, Lock(LockMode::kExclusive));
  std::string errors;
  engine::CheckOptions opts;
  opts.show_progress = false;
  engine::CheckOutput out;
  out.info = [](const std::string&) {};
  out.error = [&](const std::string& line) {
    if (errors.size() < 512) errors += (errors.empty() ? "" : " ") + line;
  };
  engine::Checker checker(*repo_, std::move(opts), std::move(out), random_);
  auto found = checker.Run();
  lock.Release().IgnoreError();
  if (!found.ok()) return Status(found.status()).Prepend("checking repository " + url_);
  if (*found) {
    return DataLossError("checking repository " + url_ + ": repository contains errors: " + errors);
  }
  return Status::Ok();
}

Result<RepoStats> EngineSession::Stats() {
  auto snapshots =
      engine::LoadSnapshots(*repo_, {}, [](const std::string& w) { spdlog::warn("stats: {}", w); });
  if (!snapshots.ok()) return Status(snapshots.status()).Prepend("listing snapshots of " + url_);
  auto stats = engine::ComputeStats(*repo_, engine::StatsMode::kRawData, *snapshots);
  if (!stats.ok()) return Status(stats.status()).Prepend("reading the size of " + url_);
  return RepoStats{stats->total_size, int64_t(snapshots->size())};
}

}  // namespace

EngineBackupRunner::EngineBackupRunner(Clock& clock, Random& random, EngineRunnerOptions opts)
    : clock_(clock), random_(random), opts_(std::move(opts)) {}

Result<std::unique_ptr<RepositorySession>> EngineBackupRunner::Open(const RepoTarget& repo) {
  const std::string what = "opening repository " + repo.url;
  auto stop_transfers = std::make_shared<std::atomic<bool>>(false);
  auto open = [&](bool init) {
    return agent::OpenRepository(repo, opts_.base_env, clock_, random_, opts_.repo, init,
                                 opts_.cache_dir, stop_transfers.get());
  };
  bool created = false;
  auto opened = open(/*init=*/false);
  if (!opened.ok() && opened.status().code() == Code::kNotFound) {
    opened = open(/*init=*/true);
    created = opened.ok();
    // Another replica's sidecar initialised it first: open theirs.
    if (!opened.ok() && opened.status().code() == Code::kAlreadyExists) {
      opened = open(/*init=*/false);
    }
  }
  if (!opened.ok()) {
    Status s = Status(opened.status()).Prepend(what);
    if (s.code() == Code::kUnauthorized) {
      return UnauthorizedError(s.message() +
                               " (check RESTIC_PASSWORD in the Repository's storage Secret)");
    }
    return s;
  }
  STASH_RETURN_IF_ERROR_CTX((*opened)->LoadIndex(), what);
  return std::unique_ptr<RepositorySession>(new EngineSession(std::move(stop_transfers),
                                                              std::move(*opened), created, repo.url,
                                                              clock_, random_, opts_.cancel));
}

Status EngineBackupRunner::Unlock(const RepoTarget& repo) {
  STASH_ASSIGN_OR_RETURN(auto opened,
                         agent::OpenRepository(repo, opts_.base_env, clock_, random_, opts_.repo));
  auto removed = engine::RemoveLocks(*opened, /*remove_all=*/false, clock_.Now(),
                                     engine::LockOwner::Current().hostname);
  if (!removed.ok()) return Status(removed.status()).Prepend("unlocking " + repo.url);
  if (*removed > 0) spdlog::info("removed {} stale lock(s) of {}", *removed, repo.url);
  return Status::Ok();
}

}  // namespace stash::agent
