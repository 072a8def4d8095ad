#include "store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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
  EXPECT_EQ(e->object["metadata"]["resourceVersion"], "2");
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

}  // namespace
}  // namespace stash::api
