// FindLatestSnapshot / FindSnapshot("latest") / FindParentSnapshot when a
// snapshot file cannot be read: they fail and name it, as restic 0.14 does,
// instead of silently picking an older snapshot.
#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "stash/backend/memory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/backup.h"
#include "stash/engine/snapshots.h"
#include "stash/format/snapshot.h"

namespace stash::engine {
namespace {

class LatestSnapshot : public testing::RepoTest<> {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(InitRepository(Where::kMemory));
  }

  Id Save(int64_t sec, const std::string& host = "h") {
    format::Snapshot sn;
    sn.time = {sec, 0, 0};
    sn.tree = crypto::Sha256(std::string("tree"));
    sn.paths = {"/src"};
    sn.hostname = host;
    auto id = repo_->SaveUnpacked(backend::FileType::kSnapshot, format::EncodeSnapshot(sn));
    EXPECT_OK(id);
    return *id;
  }

  // Stores a sealed document that is not a valid snapshot.
  Id SaveDocument(const std::string& json) {
    auto id = repo_->SaveUnpacked(backend::FileType::kSnapshot, json);
    EXPECT_OK(id);
    return *id;
  }

  // Stores bytes that are not sealed with the repository's key.
  Id SaveRaw(const std::string& bytes) {
    Id id = crypto::Sha256(bytes);
    EXPECT_OK(repo_->backend().Save(
        {backend::FileType::kSnapshot, id.Hex()},
        std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())));
    return id;
  }

  void ExpectFailsNaming(const Id& bad) {
    const std::string want = "Error loading snapshot " + bad.ShortHex() + ": ";
    auto latest = FindSnapshot(*repo_, "latest", {});
    ASSERT_FALSE(latest.ok()) << "picked " << latest->id.ShortHex();
    EXPECT_EQ(latest.status().code(), Code::kDataLoss);
    EXPECT_EQ(latest.status().message().rfind(want, 0), 0u) << latest.status().message();
    auto parent = FindParentSnapshot(*repo_, "h", {"/src"});
    ASSERT_FALSE(parent.ok());
    EXPECT_EQ(parent.status().message().rfind(want, 0), 0u) << parent.status().message();
    // `snapshots` still lists the readable ones and warns about the other.
    std::vector<std::string> warnings;
    auto all = LoadSnapshots(*repo_, {}, [&](const std::string& w) { warnings.push_back(w); });
    ASSERT_OK(all);
    EXPECT_EQ(all->size(), 1u);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].rfind("could not load snapshot " + bad.ShortHex(), 0), 0u);
  }
};

TEST_F(LatestSnapshot, ReadableSnapshotsGiveTheNewestMatching) {
  Save(100);
  Id newest = Save(300);
  Save(200);
  Id other_host = Save(400, "elsewhere");
  auto latest = FindSnapshot(*repo_, "latest", {});
  ASSERT_OK(latest);
  EXPECT_EQ(latest->id, other_host);
  auto parent = FindParentSnapshot(*repo_, "h", {"/src"});
  ASSERT_OK(parent);
  EXPECT_EQ(*parent, newest);
  // Not newer than the new snapshot's time.
  auto before = FindParentSnapshot(*repo_, "h", {"/src"}, SystemTime{} + std::chrono::seconds(250));
  ASSERT_OK(before);
  EXPECT_NE(*before, newest);
}

TEST_F(LatestSnapshot, BadJsonFails) {
  Save(100);
  ExpectFailsNaming(SaveDocument(R"({"time":"2030-01-01T00:00:00Z","tree":)"));
}

TEST_F(LatestSnapshot, WrongTypesFail) {
  Save(100);
  ExpectFailsNaming(SaveDocument(R"({"time":"2030-01-01T00:00:00Z","tree":123,"paths":"x"})"));
}

TEST_F(LatestSnapshot, UndecryptableFails) {
  Save(100);
  ExpectFailsNaming(SaveRaw(std::string(100, 'x')));
}

TEST_F(LatestSnapshot, AnOlderUnreadableSnapshotFailsToo) {
  // It cannot be known which snapshot an unreadable file was: restic 0.14
  // refuses whichever it is.
  Id bad = SaveRaw(std::string(64, '\x01'));
  Save(100);
  ExpectFailsNaming(bad);
}

TEST_F(LatestSnapshot, NoSnapshotIsNotFound) {
  auto latest = FindSnapshot(*repo_, "latest", {});
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), Code::kNotFound);
  auto parent = FindParentSnapshot(*repo_, "h", {"/src"});
  ASSERT_OK(parent);
  EXPECT_FALSE(parent->has_value());
}

}  // namespace
}  // namespace stash::engine
