#include "stash/backend/retry.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "jump_clock.h"
#include "stash/backend/fault.h"
#include "stash/backend/limit.h"
#include "stash/backend/memory.h"
#include "stash/core/testing.h"

namespace stash::backend {
namespace {

using namespace std::chrono_literals;

Handle H(char c) { return Handle{FileType::kPack, std::string(64, c)}; }

struct Fixture {
  Fixture(RetryOptions opts = {}) {
    auto f = std::make_unique<FaultInjectingBackend>(std::make_unique<InMemoryBackend>("faulty"));
    fault = f.get();
    retry = std::make_unique<RetryBackend>(std::move(f), clock, random, opts);
  }
  JumpClock clock;
  SeededRandom random{42};
  FaultInjectingBackend* fault;
  std::unique_ptr<RetryBackend> retry;
};

TEST(RetryBackend, RidesOutAStretchOf500sWithGrowingJitteredDelays) {
  Fixture fx;
  fx.fault->FailNext(5, UnavailableError("HTTP 500 Internal Server Error"), kOpSave);
  ASSERT_OK(fx.retry->Save(H('a'), std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(fx.fault->calls(kOpSave), 6);
  ASSERT_EQ(fx.clock.sleeps.size(), 5u);
  for (size_t i = 0; i < fx.clock.sleeps.size(); ++i) {
    Duration nominal = 500ms * (1 << i);
    EXPECT_GE(fx.clock.sleeps[i], nominal / 2) << i;
    EXPECT_LE(fx.clock.sleeps[i], nominal) << i;
  }
  std::vector<uint8_t> out;
  EXPECT_OK(fx.retry->Load(H('a'), 0, 0, &out));
}

TEST(RetryBackend, PermanentOutageEndsWithAnErrorNamingBackendAndOperation) {
  Fixture fx(RetryOptions{.max_attempts = 4});
  fx.fault->FailNext(1000, UnavailableError("connection refused"), kOpAll);
  Status s = fx.retry->Save(H('b'), std::vector<uint8_t>{1});
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_NE(s.message().find("mem:faulty"), std::string::npos) << s;
  EXPECT_NE(s.message().find("saving data/bbbbbbbb"), std::string::npos) << s;
  EXPECT_NE(s.message().find("4 attempts"), std::string::npos) << s;
  EXPECT_EQ(fx.fault->calls(kOpSave), 4);
}

TEST(RetryBackend, StopsWhenTheTimeBudgetIsSpent) {
  Fixture fx(RetryOptions{.max_attempts = 1000, .max_elapsed = 10s});
  fx.fault->FailNext(1000, TimeoutError("timed out"), kOpLoad);
  std::vector<uint8_t> out;
  Status s = fx.retry->Load(H('c'), 0, 0, &out);
  EXPECT_EQ(s.code(), Code::kTimeout);
  Duration total{};
  for (auto d : fx.clock.sleeps) total += d;
  EXPECT_LE(total, 10s);
  EXPECT_LT(fx.fault->calls(kOpLoad), 12);
}

TEST(RetryBackend, DoesNotRetryPermanentErrors) {
  Fixture fx;
  fx.fault->FailNext(1, ForbiddenError("HTTP 403"), kOpRemove);
  EXPECT_EQ(fx.retry->Remove(H('d')).code(), Code::kForbidden);
  EXPECT_EQ(fx.fault->calls(kOpRemove), 1);
  EXPECT_TRUE(fx.clock.sleeps.empty());
  std::vector<uint8_t> out;
  EXPECT_EQ(fx.retry->Load(H('d'), 0, 0, &out).code(), Code::kNotFound);
  EXPECT_EQ(fx.fault->calls(kOpLoad), 1);
}

TEST(RetryBackend, SaveWhoseAnswerWasLostCountsAsDone) {
  Fixture fx;
  fx.fault->LoseResponses(1, kOpSave);
  EXPECT_OK(fx.retry->Save(H('e'), std::vector<uint8_t>(100, 7)));
  // But a different file under that name is still a conflict.
  EXPECT_EQ(fx.retry->Save(H('e'), std::vector<uint8_t>(5, 7)).code(), Code::kAlreadyExists);
}

TEST(RetryBackend, RemoveWhoseAnswerWasLostCountsAsDone) {
  Fixture fx;
  ASSERT_OK(fx.retry->Save(H('f'), std::vector<uint8_t>{1}));
  fx.fault->LoseResponses(1, kOpRemove);
  EXPECT_OK(fx.retry->Remove(H('f')));
  EXPECT_EQ(fx.retry->Remove(H('f')).code(), Code::kNotFound);
}

TEST(RetryBackend, ListInterruptedMidwayDeliversEveryNameOnce) {
  Fixture fx;
  for (char c : std::string("0123456789abcdef")) {
    ASSERT_OK(fx.retry->Save(H(c), std::vector<uint8_t>{1}));
  }
  fx.fault->LoseResponses(2, kOpList);
  std::multiset<std::string> names;
  ASSERT_OK(fx.retry->List(FileType::kPack, [&](const FileInfo& fi) {
    names.insert(fi.name);
    return Status::Ok();
  }));
  EXPECT_EQ(names.size(), 16u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 16u);
}

TEST(RetryBackend, CallbackErrorsFromListAreNotRetried) {
  Fixture fx;
  ASSERT_OK(fx.retry->Save(H('1'), std::vector<uint8_t>{1}));
  int calls = 0;
  Status s = fx.retry->List(FileType::kPack, [&](const FileInfo&) {
    ++calls;
    return UnavailableError("downstream hiccup");
  });
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(fx.fault->calls(kOpList), 1);
}

// Slows every save down so concurrency becomes visible.
class SlowBackend final : public Backend {
 public:
  std::string Location() const override { return "slow"; }
  int Connections() const override { return 8; }
  Status Create() override { return Status::Ok(); }
  Status Save(const Handle& h, std::span<const uint8_t> d) override {
    std::this_thread::sleep_for(5ms);
    return mem_.Save(h, d);
  }
  Status Load(const Handle& h, uint64_t o, uint64_t l, std::vector<uint8_t>* out) override {
    return mem_.Load(h, o, l, out);
  }
  Result<FileInfo> Stat(const Handle& h) override { return mem_.Stat(h); }
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override {
    return mem_.List(t, fn);
  }
  Status Remove(const Handle& h) override { return mem_.Remove(h); }

 private:
  InMemoryBackend mem_;
};

TEST(LimitBackend, NeverExceedsMaxConnections) {
  LimitBackend limit(std::make_unique<SlowBackend>(), 3);
  EXPECT_EQ(limit.Connections(), 3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        std::string name(64, '0');
        name[0] = "0123456789ab"[t];
        name[1] = "0123"[i];
        EXPECT_OK(limit.Save(Handle{FileType::kPack, name}, std::vector<uint8_t>{1}));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(limit.peak(), 3);
}

TEST(LimitBackend, ListCallbackMayUseTheBackendUnderALimitOfOne) {
  LimitBackend limit(std::make_unique<InMemoryBackend>(), 1);
  ASSERT_OK(limit.Save(H('9'), std::vector<uint8_t>{4, 2}));
  std::vector<uint8_t> out;
  ASSERT_OK(limit.List(FileType::kPack, [&](const FileInfo& fi) {
    return limit.Load(Handle{FileType::kPack, fi.name}, 0, 0, &out);
  }));
  EXPECT_EQ(out, (std::vector<uint8_t>{4, 2}));
}

}  // namespace
}  // namespace stash::backend
