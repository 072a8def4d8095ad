#include "stash/engine/lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "stash/backend/local.h"
#include "stash/backend/memory.h"
#include "stash/core/testing.h"

namespace stash::engine {
namespace {

using namespace std::chrono_literals;

// A fresh repository on `store`, cheap to open, on the given clock.
Result<std::unique_ptr<repo::Repository>> InitRepo(backend::BackendPtr store, Clock& clock,
                                                   Random& random) {
  repo::Options opts;
  opts.scrypt_n = 1024;
  opts.clock = &clock;
  opts.random = &random;
  return repo::Repository::Init(std::move(store), "pw", opts);
}

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = InitRepo(std::make_unique<backend::InMemoryBackend>(), clock_, random_);
    ASSERT_OK(r);
    repo_ = std::move(*r);
  }

  LockOwner Owner(int64_t pid, const std::string& host = "thishost") {
    LockOwner o;
    o.hostname = host;
    o.username = "alice";
    o.pid = pid;
    return o;
  }

  // No settle wait: the manual clock would need a helper thread to pass it.
  Result<ScopedLock> Take(LockMode mode, const LockOwner& owner) {
    LockTiming timing;
    timing.settle = Duration::zero();
    return ScopedLock::Acquire(*repo_, mode, clock_, owner, timing);
  }

  ManualClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<repo::Repository> repo_;
};

TEST_F(LockTest, SharedLocksCoexistAndExclusiveIsRefusedNamingTheHolder) {
  auto a = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_OK(a);
  auto b = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_OK(b);
  auto x = Take(LockMode::kExclusive, Owner(4242));
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), Code::kConflict);
  EXPECT_NE(x.status().message().find("repository is already locked by PID " +
                                      std::to_string(getpid()) + " on thishost by alice"),
            std::string::npos)
      << x.status().message();
  EXPECT_NE(x.status().message().find("`unlock`"), std::string::npos);
  EXPECT_EQ(ListLocks(*repo_)->size(), 2u);  // the refused attempt left nothing behind
  ASSERT_OK(a->Release());
  ASSERT_OK(b->Release());
  EXPECT_TRUE(ListLocks(*repo_)->empty());
}

TEST_F(LockTest, ExclusiveLockBlocksSharedOnes) {
  auto x = Take(LockMode::kExclusive, Owner(getpid()));
  ASSERT_OK(x);
  auto s = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("already locked exclusively by"), std::string::npos);
}

TEST_F(LockTest, RetryWaitsForAShortLockToGoAndIsBounded) {
  auto reader = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_OK(reader);
  LockTiming timing;
  timing.settle = Duration::zero();
  timing.retry = 10s;
  auto waiting = std::async(std::launch::async, [&] {
    return ScopedLock::Acquire(*repo_, LockMode::kExclusive, clock_, Owner(4242), timing);
  });
  // The reader finishes after a while; the exclusive request is still waiting.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(20ms);
    clock_.Advance(300ms);
  }
  ASSERT_EQ(waiting.wait_for(0s), std::future_status::timeout);
  ASSERT_OK(reader->Release());
  for (int i = 0; i < 200 && waiting.wait_for(10ms) != std::future_status::ready; ++i) {
    clock_.Advance(1s);
  }
  Result<ScopedLock> got = waiting.get();
  ASSERT_OK(got);
  EXPECT_TRUE(got->held());
  ASSERT_OK(got->Release());

  // A lock that stays fails the request once the retry time is up.
  const SystemTime start = clock_.Now();
  auto stays = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_OK(stays);
  auto gives_up = std::async(std::launch::async, [&] {
    return ScopedLock::Acquire(*repo_, LockMode::kExclusive, clock_, Owner(4242), timing);
  });
  for (int i = 0; i < 400 && gives_up.wait_for(10ms) != std::future_status::ready; ++i) {
    clock_.Advance(500ms);
  }
  auto failed = gives_up.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kConflict);
  EXPECT_GE(clock_.Now() - start, 10s);
}

TEST_F(LockTest, RefreshReplacesTheLockFileWithANewerOne) {
  auto a = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_OK(a);
  const Id first = a->id();
  auto before = ListLocks(*repo_);
  ASSERT_EQ(before->size(), 1u);
  while (clock_.sleepers() == 0) std::this_thread::sleep_for(1ms);
  clock_.Advance(kLockRefreshEvery);
  for (int i = 0; i < 2000 && a->id() == first; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_NE(a->id(), first);
  for (int i = 0; i < 2000 && ListLocks(*repo_)->size() != 1; ++i) std::this_thread::sleep_for(1ms);
  auto after = ListLocks(*repo_);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().id, a->id());
  EXPECT_TRUE(format::Before(before->front().lock.time, after->front().lock.time));
}

TEST_F(LockTest, StaleWhenOldOrWhenTheProcessOnThisHostIsGone) {
  format::Lock l;
  l.time = format::LocalTimestamp(clock_.Now());
  l.hostname = "thishost";
  l.pid = getpid();
  EXPECT_FALSE(IsStale(l, clock_.Now() + 29min, "thishost"));
  EXPECT_TRUE(IsStale(l, clock_.Now() + 31min, "thishost"));
  // A pid above the kernel's pid_max cannot be running.
  l.pid = 1 << 30;
  EXPECT_TRUE(IsStale(l, clock_.Now(), "thishost"));
  EXPECT_FALSE(IsStale(l, clock_.Now(), "otherhost"));
}

TEST_F(LockTest, UnlockRemovesOnlyStaleLocksUnlessRemoveAll) {
  auto live = Take(LockMode::kShared, Owner(getpid()));
  ASSERT_OK(live);
  auto dead = Take(LockMode::kShared, Owner(1 << 30));
  ASSERT_OK(dead);
  EXPECT_EQ(*RemoveLocks(*repo_, false, clock_.Now(), "thishost"), 1);
  auto left = ListLocks(*repo_);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().lock.pid, getpid());
  EXPECT_EQ(*RemoveLocks(*repo_, true, clock_.Now(), "thishost"), 1);
  EXPECT_TRUE(ListLocks(*repo_)->empty());
}

}  // namespace
}  // namespace stash::engine

namespace stash::engine {
namespace {

// A local repository lists a saved lock at once, so taking a lock does not
// wait restic's 200 ms: every command on a local repository starts sooner.
TEST(LockSettle, LocalRepositoryTakesTheLockWithoutTheSettleWait) {
  std::string dir = ::testing::TempDir() + "/lock-settle-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  ManualClock clock;
  SeededRandom random{3};
  auto repo = InitRepo(std::make_unique<backend::LocalBackend>(dir), clock, random);
  ASSERT_OK(repo);
  auto taking = std::async(std::launch::async, [&] {
    return ScopedLock::Acquire(**repo, LockMode::kShared, clock);  // default 200 ms settle
  });
  if (taking.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    clock.Advance(std::chrono::seconds(1));  // let it finish before failing
    FAIL() << "taking a lock on a local repository waited for the clock";
  }
  auto lock = taking.get();
  ASSERT_OK(lock);
  EXPECT_EQ(ListLocks(**repo)->size(), 1u);
  ASSERT_OK(lock->Release());
  std::filesystem::remove_all(dir);
}

// A store that may list a new file late gets the wait, as restic does.
TEST(LockSettle, OtherStoresWaitBeforeLookingAgain) {
  ManualClock clock;
  SeededRandom random{4};
  auto repo = InitRepo(std::make_unique<backend::InMemoryBackend>(), clock, random);
  ASSERT_OK(repo);
  auto taking = std::async(std::launch::async,
                           [&] { return ScopedLock::Acquire(**repo, LockMode::kShared, clock); });
  while (clock.sleepers() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_NE(taking.wait_for(std::chrono::milliseconds(50)), std::future_status::ready);
  clock.Advance(std::chrono::milliseconds(200));
  auto lock = taking.get();
  ASSERT_OK(lock);
}

// Work handed to the settle wait (a backup reading its index) runs inside
// it: the lock is held 200 ms after it was written, not 200 ms after the work.
TEST(LockSettle, WorkDuringTheSettleWaitDoesNotLengthenIt) {
  ManualClock clock;
  SeededRandom random{5};
  auto repo = InitRepo(std::make_unique<backend::InMemoryBackend>(), clock, random);
  ASSERT_OK(repo);
  std::atomic<bool> ran{false};
  auto taking = std::async(std::launch::async, [&] {
    return ScopedLock::Acquire(
        **repo, LockMode::kShared, clock, LockOwner::Current(), {}, {.while_settling = [&] {
          clock.Advance(std::chrono::milliseconds(150));  // the work takes 150 ms
          ran = true;
        }});
  });
  while (clock.sleepers() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(ran);
  clock.Advance(std::chrono::milliseconds(50));  // the rest of the 200 ms
  if (taking.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    clock.Advance(std::chrono::seconds(1));
    FAIL() << "the work during the settle wait lengthened it";
  }
  auto lock = taking.get();
  ASSERT_OK(lock);
  EXPECT_EQ(ListLocks(**repo)->size(), 1u);
  EXPECT_EQ(ListLocks(**repo, lock->id())->size(), 0u);  // one's own lock is skipped
}

// The reads a caller makes under the lock start once the settle wait is over
// (not before: a prune could still be replacing what they read) and Acquire
// returns only when they are done, so the caller can use their results.
TEST(LockSettleTest, OnceSettledRunsAfterTheWaitAndIsDoneWhenAcquireReturns) {
  ManualClock clock;
  SeededRandom random{6};
  auto repo = InitRepo(std::make_unique<backend::InMemoryBackend>(), clock, random);
  ASSERT_OK(repo);
  const SystemTime start = clock.Now();
  std::atomic<bool> done{false};
  std::atomic<bool> early{false};
  auto taking = std::async(std::launch::async, [&] {
    return ScopedLock::Acquire(**repo, LockMode::kShared, clock, LockOwner::Current(), {},
                               {.once_settled = [&] {
                                 early = clock.Now() - start < std::chrono::milliseconds(200);
                                 std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                 done = true;
                               }});
  });
  while (clock.sleepers() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_FALSE(done);
  clock.Advance(std::chrono::milliseconds(200));
  if (taking.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    clock.Advance(std::chrono::seconds(1));
    FAIL() << "Acquire did not return after the settle wait";
  }
  auto lock = taking.get();
  ASSERT_OK(lock);
  EXPECT_TRUE(done);
  EXPECT_FALSE(early);
}

}  // namespace
}  // namespace stash::engine
