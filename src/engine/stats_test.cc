// ComputeStats on hand-built snapshots whose numbers follow from restic
// 0.14's counting rules (the integration test compares with restic itself).
#include "stash/engine/stats.h"

#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "stash/backend/memory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/crypto/sha256.h"
#include "stash/format/tree.h"

namespace stash::engine {
namespace {

using format::Node;
using format::NodeType;
using repo::BlobKind;

class StatsTest : public testing::RepoTest<> {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(InitRepository(Where::kMemory));
    x_ = Save(BlobKind::kData, std::string(1000, 'x'));  // compresses
    y_ = Save(BlobKind::kData, "yyyyyyyyyyyyyyyyyyyy");
    z_ = Save(BlobKind::kData, "zzz");

    // A: /d/{e (empty), g (same content as f1)}, /f1 and /f2 (hard links), /l.
    Id sub = Tree({File("g", 11, {x_, y_}, 1020), File("e", 12, {}, 0)});
    Node d = Make("d", NodeType::kDir, 14);
    d.subtree = sub;
    Node l = Make("l", NodeType::kSymlink, 13);
    l.linktarget = "f1";
    a_ = Entry(Tree({d, File("f1", 10, {x_, y_}, 1020), File("f2", 10, {x_, y_}, 1020), l}));
    // B: /f1 has new content (x, z) at the same path; /d is A's /d.
    b_ = Entry(Tree({File("f1", 20, {x_, z_}, 1003), d}));
    sub_ = sub;
    ASSERT_OK(repo_->Flush());
  }

  Id Save(BlobKind kind, const std::string& data) {
    Id id = crypto::Sha256(data);
    auto saved = repo_->SaveBlob(
        kind, id, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
    EXPECT_OK(saved);
    return id;
  }
  static Node Make(std::string name, NodeType type, uint64_t inode) {
    Node n;
    n.name = std::move(name);
    n.type = type;
    n.inode = inode;
    return n;
  }
  static Node File(std::string name, uint64_t inode, std::vector<Id> content, uint64_t size) {
    Node n = Make(std::move(name), NodeType::kFile, inode);
    n.size = size;
    n.content = std::move(content);
    return n;
  }
  Id Tree(std::vector<Node> nodes) {
    format::SortNodes(&nodes);
    auto json = format::EncodeTree(nodes);
    EXPECT_OK(json);
    return Save(BlobKind::kTree, *json);
  }
  static SnapshotEntry Entry(const Id& tree) {
    SnapshotEntry e;
    e.id = crypto::Sha256(tree.Hex());
    e.snapshot.tree = tree;
    return e;
  }
  uint64_t Stored(BlobKind kind, const Id& id) { return repo_->Lookup(kind, id)->length; }
  RepoStats Stats(StatsMode mode, std::vector<SnapshotEntry> snaps) {
    auto s = ComputeStats(*repo_, mode, snaps);
    EXPECT_OK(s);
    return s.ok() ? *s : RepoStats{};
  }

  Id x_, y_, z_, sub_;
  SnapshotEntry a_, b_;
};

TEST_F(StatsTest, RestoreSizeCountsEveryNodeAndHardLinksOnce) {
  RepoStats s = Stats(StatsMode::kRestoreSize, {a_});
  EXPECT_EQ(s.total_file_count, 6u);  // d, d/e, d/g, f1, f2, l
  EXPECT_EQ(s.total_size, 2040u);     // f2 shares f1's inode
  EXPECT_EQ(s.snapshots_count, 1u);
  // Inodes are per snapshot: B's /d/g counts again.
  s = Stats(StatsMode::kRestoreSize, {a_, b_});
  EXPECT_EQ(s.total_file_count, 10u);
  EXPECT_EQ(s.total_size, 2040u + 1003u + 1020u);
}

TEST_F(StatsTest, FilesByContentsCountsEachContentOnce) {
  // (x, y) once; every node without content (dirs, links, empty files) is
  // one more "file" of size 0; (x, z) from B.
  RepoStats s = Stats(StatsMode::kFilesByContents, {a_, b_});
  EXPECT_EQ(s.total_file_count, 3u);
  EXPECT_EQ(s.total_size, 1020u + 1003u);
  EXPECT_EQ(s.total_blob_count, 0u);
}

TEST_F(StatsTest, BlobsPerFileCountsPlaintextBlobsPerPath) {
  // A: /d/g comes first with (x, y). B: /f1's (x, z) is a new content at
  // a new path.
  RepoStats s = Stats(StatsMode::kBlobsPerFile, {a_, b_});
  EXPECT_EQ(s.total_file_count, 2u);
  EXPECT_EQ(s.total_blob_count, 4u);
  EXPECT_EQ(s.total_size, 1000u + 20u + 1000u + 3u);
}

TEST_F(StatsTest, RawDataCountsDistinctStoredBlobs) {
  RepoStats s = Stats(StatsMode::kRawData, {a_, b_, a_});
  EXPECT_EQ(s.snapshots_count, 3u);
  EXPECT_EQ(s.total_blob_count, 6u);  // 3 trees, 3 data blobs
  EXPECT_EQ(s.total_file_count, 0u);
  uint64_t stored = Stored(BlobKind::kTree, a_.snapshot.tree) +
                    Stored(BlobKind::kTree, b_.snapshot.tree) + Stored(BlobKind::kTree, sub_) +
                    Stored(BlobKind::kData, x_) + Stored(BlobKind::kData, y_) +
                    Stored(BlobKind::kData, z_);
  EXPECT_EQ(s.total_size, stored);
  EXPECT_LT(Stored(BlobKind::kData, x_), 1000u);  // compressed: what the pack holds
}

TEST_F(StatsTest, MissingBlobsAndTreesFail) {
  Id missing = crypto::Sha256(std::string("not stored"));
  SnapshotEntry broken = Entry(missing);
  auto s = ComputeStats(*repo_, StatsMode::kRestoreSize, {broken});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("error walking snapshot"), std::string::npos);
  SnapshotEntry dangling = Entry(Tree({File("f", 1, {missing}, 5)}));
  ASSERT_OK(repo_->Flush());
  s = ComputeStats(*repo_, StatsMode::kRawData, {dangling});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("blob <data/" + missing.ShortHex() + "> not found"),
            std::string::npos)
      << s.status();
}

TEST(StatsFormatTest, TextAndJsonAsRestic014) {
  RepoStats s;
  EXPECT_EQ(
      StatsText(s, StatsMode::kRestoreSize),
      "Stats in restore-size mode:\nSnapshots processed:   0\n         Total Size:   0 B  \n");
  EXPECT_EQ(StatsJson(s), "{\"total_size\":0,\"total_file_count\":0,\"snapshots_count\":0}\n");
  s = {5436, 0, 24, 11};
  EXPECT_EQ(StatsText(s, StatsMode::kRawData),
            "Stats in raw-data mode:\nSnapshots processed:   11\n   Total Blob Count:   24\n"
            "         Total Size:   5.309 KiB\n");
  EXPECT_EQ(StatsJson(s),
            "{\"total_size\":5436,\"total_file_count\":0,\"total_blob_count\":24,"
            "\"snapshots_count\":11}\n");
  EXPECT_FALSE(ParseStatsMode("all").ok());
  EXPECT_EQ(ParseStatsMode("all").status().message(),
            "unknown counting mode: all (use the -h flag to get a list of supported modes)");
  EXPECT_EQ(*ParseStatsMode("blobs-per-file"), StatsMode::kBlobsPerFile);
}

}  // namespace
}  // namespace stash::engine
