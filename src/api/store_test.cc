#include "store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "decode.h"
#include "encryption.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("stash-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open(size_t keep = 10000) {
    auto s = Store::Open((dir_ / "state.db").string(), keep);
    EXPECT_OK(s);
    return std::move(*s);
  }

  static Result<MutateResult> Put(Store& s, const std::string& name, int value) {
    return s.Mutate("/configmaps", "demo", name, [&](const json*) -> Result<Mutation> {
      return Mutation::Put({{"metadata", {{"name", name}}}, {"data", {{"v", value}}}});
    });
  }

  // True when any file of the test's directory holds `needle`.
  bool AnyFileHolds(const std::string& needle) {
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find(needle) != std::string::npos) return true;
    }
    return false;
  }

  static Result<MutateResult> PutData(Store& s, const std::string& resource,
                                      const std::string& name, const std::string& value) {
    return s.Mutate(resource, "demo", name, [&](const json*) -> Result<Mutation> {
      return Mutation::Put({{"metadata", {{"name", name}}}, {"data", {{"v", value}}}});
    });
  }
  static Status Delete(Store& s, const std::string& resource, const std::string& name) {
    return s
        .Mutate(resource, "demo", name,
                [](const json* cur) -> Result<Mutation> { return Mutation::Delete(*cur); })
        .status();
  }

  std::filesystem::path dir_;
};

TEST_F(StoreTest, ObjectsAndResourceVersionSurviveReopen) {
  {
    auto s = Open();
    ASSERT_OK(Put(*s, "a", 1));
    auto b = Put(*s, "b", 2);
    ASSERT_OK(b);
    EXPECT_TRUE(b->created);
    EXPECT_EQ(b->object["metadata"]["resourceVersion"], "2");
  }
  auto s = Open();
  EXPECT_EQ(s->CurrentRv(), 2u);
  auto a = s->Get("/configmaps", "demo", "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ((*a)["data"]["v"], 1);
  auto c = Put(*s, "c", 3);
  ASSERT_OK(c);
  EXPECT_EQ(c->object["metadata"]["resourceVersion"], "3");
}

TEST_F(StoreTest, NoopAndDryRunDoNotBumpResourceVersion) {
  auto s = Open();
  ASSERT_OK(Put(*s, "a", 1));
  auto noop = s->Mutate("/configmaps", "demo", "a",
                        [](const json*) -> Result<Mutation> { return Mutation::Noop(); });
  ASSERT_OK(noop);
  EXPECT_EQ(noop->object["metadata"]["resourceVersion"], "1");
  auto dry = s->Mutate(
      "/configmaps", "demo", "b",
      [](const json*) -> Result<Mutation> {
        return Mutation::Put({{"metadata", {{"name", "b"}}}});
      },
      /*dry_run=*/true);
  ASSERT_OK(dry);
  EXPECT_EQ(s->CurrentRv(), 1u);
  EXPECT_FALSE(s->Get("/configmaps", "demo", "b").has_value());
}

TEST_F(StoreTest, ListIsScopedToResourceAndNamespace) {
  auto s = Open();
  ASSERT_OK(Put(*s, "a", 1));
  ASSERT_OK(s->Mutate("/configmaps", "other", "z", [](const json*) -> Result<Mutation> {
    return Mutation::Put({{"metadata", {{"name", "z"}}}});
  }));
  ASSERT_OK(s->Mutate("/secrets", "demo", "s", [](const json*) -> Result<Mutation> {
    return Mutation::Put({{"metadata", {{"name", "s"}}}});
  }));
  uint64_t rv = 0;
  EXPECT_EQ(s->List("/configmaps", "demo", &rv).size(), 1u);
  EXPECT_EQ(rv, 3u);
  EXPECT_EQ(s->List("/configmaps", "", nullptr).size(), 2u);
}

TEST_F(StoreTest, WatchResumesAfterReopenFromAnOldVersion) {
  {
    auto s = Open();
    for (int i = 0; i < 5; ++i) ASSERT_OK(Put(*s, "a" + std::to_string(i), i));
  }
  auto s = Open();
  auto w = s->Watch("/configmaps", "demo", 3);
  ASSERT_OK(w);
  ASSERT_OK(Put(*s, "live", 9));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::vector<uint64_t> rvs;
  while (auto e = (*w)->Next(deadline)) {
    rvs.push_back(e->rv);
    if (rvs.size() == 3) break;
  }
  EXPECT_EQ(rvs, (std::vector<uint64_t>{4, 5, 6}));
  s->Unwatch(*w);
}

TEST_F(StoreTest, DeleteIsDeliveredAsDeletedWithNewVersion) {
  auto s = Open();
  ASSERT_OK(Put(*s, "a", 1));
  auto w = s->Watch("/configmaps", "", 0);
  ASSERT_OK(w);
  auto d = s->Mutate("/configmaps", "demo", "a",
                     [](const json* cur) -> Result<Mutation> { return Mutation::Delete(*cur); });
  ASSERT_OK(d);
  auto e = (*w)->Next(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, EventType::kDeleted);
  EXPECT_EQ((*e->object)["metadata"]["resourceVersion"], "2");
  EXPECT_FALSE(s->Get("/configmaps", "demo", "a").has_value());
}

TEST_F(StoreTest, WatchFromBeforeTheRetainedLogIsExpired) {
  {
    auto s = Open(/*keep=*/100);
    for (int i = 0; i < 300; ++i) ASSERT_OK(Put(*s, "a", i));
    EXPECT_FALSE(s->Watch("/configmaps", "demo", 1).ok());
    EXPECT_OK(s->Watch("/configmaps", "demo", 299));
  }
  auto s = Open(100);  // the cut is persisted
  auto w = s->Watch("/configmaps", "demo", 1);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(w.status().message().find("too old resource version"), std::string::npos);
}

TEST_F(StoreTest, MutationErrorsLeaveTheStoreUnchanged) {
  auto s = Open();
  auto r = s->Mutate("/configmaps", "demo", "a",
                     [](const json*) -> Result<Mutation> { return ConflictError("stale"); });
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(s->CurrentRv(), 0u);
}

TEST_F(StoreTest, CompactionDropsHistoryAndScrubsDeletedObjectsFromTheFiles) {
  auto s = Open();
  // Short enough to sit within one database page.
  const std::string marker = "compaction-marker-12345";
  ASSERT_OK(PutData(*s, "/configmaps", "gone", marker));
  ASSERT_OK(PutData(*s, "/configmaps", "kept", "other"));
  ASSERT_OK(Delete(*s, "/configmaps", "gone"));
  EXPECT_TRUE(AnyFileHolds(marker));  // still in the change log
  auto w = s->Watch("/configmaps", "", 1);
  ASSERT_OK(w);
  s->Unwatch(*w);
  ASSERT_OK(s->Compact(s->CurrentRv()));
  EXPECT_EQ(s->CompactedRv(), 3u);
  EXPECT_FALSE(AnyFileHolds(marker));
  auto old = s->Watch("/configmaps", "", 1);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("too old resource version: 1 (4)"), std::string::npos);
  EXPECT_TRUE(s->Get("/configmaps", "demo", "kept").has_value());
  // Watching from the compaction point on works.
  EXPECT_OK(s->Watch("/configmaps", "", 3));
}

TEST_F(StoreTest, TheChangeLogIsBoundedInBytesWhateverTheTraffic) {
  StoreOptions options;
  options.log_bytes = 64 * 1024;
  auto opened = Store::Open((dir_ / "state.db").string(), options);
  ASSERT_OK(opened);
  auto& s = *opened;
  const std::string big(10 * 1024, 'b');
  for (int i = 0; i < 100; ++i) ASSERT_OK(PutData(*s, "/configmaps", "a", big));
  auto [events, bytes] = s->LogSize();
  EXPECT_LE(bytes, options.log_bytes);
  EXPECT_GT(events, 0u);
  EXPECT_FALSE(s->Watch("/configmaps", "", 1).ok());
  s.reset();
  // Reopening keeps the bound too.
  auto again = Store::Open((dir_ / "state.db").string(), options);
  ASSERT_OK(again);
  EXPECT_LE((*again)->LogSize().second, options.log_bytes);
  EXPECT_EQ((*again)->CurrentRv(), 100u);
}

TEST_F(StoreTest, OversizedOrDeepObjectsAreRefused) {
  auto s = Open();
  auto big = PutData(*s, "/configmaps", "big", std::string(kMaxObjectBytes, 'x'));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Code::kResourceExhausted);
  json deep = json::array();
  json* cur = &deep;
  for (size_t i = 0; i < kMaxDepth + 5; ++i) {
    cur->push_back(json::array());
    cur = &(*cur)[0];
  }
  auto r = s->Mutate("/configmaps", "demo", "deep", [&](const json*) -> Result<Mutation> {
    return Mutation::Put({{"metadata", {{"name", "deep"}}}, {"data", deep}});
  });
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(s->CurrentRv(), 0u);
}

TEST_F(StoreTest, AnInMemoryStoreLeavesNoFile) {
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto s = Store::Open(":memory:");
  std::filesystem::current_path(cwd);
  ASSERT_OK(s);
  ASSERT_OK(Put(**s, "a", 1));
  ASSERT_OK((*s)->Compact((*s)->CurrentRv()));
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(StoreTest, DatabaseFilesAreTheServersAlone) {
  auto s = Open();
  ASSERT_OK(Put(*s, "a", 1));
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
  }
}

TEST_F(StoreTest, SecretsAreEncryptedInEveryFileAndOlderPlaintextIsRewritten) {
  const std::string value = "s3cr3t-value-of-a-secret";
  {
    auto plain = Open();  // written before encryption was configured
    ASSERT_OK(PutData(*plain, "/secrets", "old", value + "-old"));
  }
  EXPECT_TRUE(AnyFileHolds(value + "-old"));
  SeededRandom random(7);
  auto enc = EncryptionAtRest::Parse(EncryptionAtRest::NewConfig(std::string(32, 'k')), random);
  ASSERT_OK(enc);
  StoreOptions options;
  options.transformer = enc->get();
  auto opened = Store::Open((dir_ / "state.db").string(), options);
  ASSERT_OK(opened);
  auto& s = *opened;
  EXPECT_FALSE(AnyFileHolds(value + "-old"));
  ASSERT_OK(PutData(*s, "/secrets", "new", value));
  ASSERT_OK(PutData(*s, "/configmaps", "cm", "visible-configmap-value"));
  EXPECT_FALSE(AnyFileHolds(value));
  EXPECT_TRUE(AnyFileHolds("visible-configmap-value"));  // only what the config names
  ASSERT_OK(Delete(*s, "/secrets", "new"));
  ASSERT_OK(s->Compact(s->CurrentRv()));
  EXPECT_FALSE(AnyFileHolds(value));
  s.reset();
  auto again = Store::Open((dir_ / "state.db").string(), options);
  ASSERT_OK(again);
  auto old = (*again)->Get("/secrets", "demo", "old");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ((*old)["data"]["v"], value + "-old");
}

TEST_F(StoreTest, ConcurrentReadModifyWritesAreSerialisedInResourceVersionOrder) {
  auto s = Open();
  auto w = s->Watch("/configmaps", "demo", 0);
  ASSERT_OK(w);
  constexpr int kThreads = 16, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto r = s->Mutate("/configmaps", "demo", "counter", [](const json* cur) {
          const int n = cur ? (*cur)["data"]["n"].get<int>() : 0;
          return Result<Mutation>(
              Mutation::Put({{"metadata", {{"name", "counter"}}}, {"data", {{"n", n + 1}}}}));
        });
        // Answered only once durable and visible.
        if (!r.ok() || !s->Get("/configmaps", "demo", "counter") ||
            s->CurrentRv() <
                std::stoull(r->object["metadata"]["resourceVersion"].get<std::string>())) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*s->Get("/configmaps", "demo", "counter"))["data"]["n"], kThreads * kEach);
  // Every increment is an event, in order: the n-th write has rv n and value n.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (int n = 1; n <= kThreads * kEach; ++n) {
    auto e = (*w)->Next(deadline);
    ASSERT_TRUE(e.has_value()) << n;
    EXPECT_EQ(e->rv, static_cast<uint64_t>(n));
    EXPECT_EQ((*e->object)["data"]["n"], n);
  }
  s->Unwatch(*w);
  s.reset();
  EXPECT_EQ((*Open()->Get("/configmaps", "demo", "counter"))["data"]["n"], kThreads * kEach);
}

TEST_F(StoreTest, WritesDecidedDuringACommitSeeEachOtherButReadersSeeOnlyCommittedOnes) {
  auto s = Open();
  std::mutex mu;
  std::condition_variable cv;
  bool in_hook = false, release = false;
  // The commit of "a" stops in its hook (it holds the commit back) until released.
  s->AddWriteHook([&](EventType, const std::string&, const std::string&, const json& obj) {
    if (obj["metadata"]["name"] != "a") return;
    std::unique_lock lock(mu);
    in_hook = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  std::thread first([&] { EXPECT_OK(Put(*s, "a", 1)); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_hook; });
  }
  std::atomic<int> decided{0};
  std::thread second([&] {
    EXPECT_OK(s->Mutate("/configmaps", "demo", "b", [&](const json*) -> Result<Mutation> {
      ++decided;
      return Mutation::Put({{"metadata", {{"name", "b"}}}, {"data", {{"v", 2}}}});
    }));
  });
  // "b" is decided once its function ran; a later write of it sees it.
  while (decided.load() == 0) std::this_thread::yield();
  std::atomic<bool> saw_b{false};
  std::thread third([&] {
    EXPECT_OK(s->Mutate("/configmaps", "demo", "b", [&](const json* cur) -> Result<Mutation> {
      saw_b = cur != nullptr && (*cur)["data"]["v"] == 2;
      ++decided;
      return Mutation::Put({{"metadata", {{"name", "b"}}}, {"data", {{"v", 3}}}});
    }));
  });
  while (decided.load() < 2) std::this_thread::yield();
  // A conflict found against the uncommitted "b" is answered only once that
  // "b" is readable, as etcd answers a failed compare only after the entry
  // it failed against is applied.
  std::atomic<int> conflicted_on{0}, readable_after{0};
  std::thread fourth([&] {
    auto r = s->Mutate("/configmaps", "demo", "b", [&](const json* cur) -> Result<Mutation> {
      conflicted_on = cur ? (*cur)["data"]["v"].get<int>() : -1;
      return ConflictError("stale");
    });
    EXPECT_EQ(r.status().code(), Code::kConflict);
    auto now = s->Get("/configmaps", "demo", "b");
    readable_after = now ? (*now)["data"]["v"].get<int>() : -1;
  });
  while (conflicted_on.load() == 0) std::this_thread::yield();
  // Decided, not committed: not readable, and the store's version is still 1.
  EXPECT_FALSE(s->Get("/configmaps", "demo", "b").has_value());
  EXPECT_EQ(s->CurrentRv(), 1u);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  second.join();
  third.join();
  fourth.join();
  EXPECT_TRUE(saw_b.load());
  EXPECT_EQ(conflicted_on.load(), 3);
  EXPECT_EQ(readable_after.load(), 3);
  EXPECT_EQ((*s->Get("/configmaps", "demo", "b"))["data"]["v"], 3);
  EXPECT_EQ(s->CurrentRv(), 3u);
}

}  // namespace
}  // namespace stash::api
