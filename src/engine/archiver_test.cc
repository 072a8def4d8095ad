// The archiver (Backup) end to end on a temp directory and an in-memory
// repository: the trees it saves, how it splits and deduplicates file
// content, when it reuses the parent snapshot's content instead of reading
// a file again, and what the exclude rules leave out.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine_fixture.h"
#include "stash/backend/memory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/engine/backup.h"
#include "stash/engine/walker.h"
#include "stash/format/snapshot.h"

namespace stash::engine {
namespace {

namespace fs = std::filesystem;
using format::Node;
using format::NodeType;

std::string Pseudo(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1103515245 + 12345;
    c = static_cast<char>(seed >> 16);
  }
  return s;
}

struct stat Stat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

class ArchiverTest : public testing::RepoTest<> {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    src_ = dir_;
    ASSERT_NO_FATAL_FAILURE(InitRepository(Where::kMemory));
  }

  std::string Write(const std::string& rel, const std::string& data) {
    const std::string path = src_ + "/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
    return path;
  }

  // One backup of src_; the snapshot's time moves on by a minute each time
  // so the latest snapshot is the parent of the next.
  BackupStats Run(BackupOptions o = {}) {
    clock_.Advance(std::chrono::minutes(1));
    if (o.paths.empty()) o.paths = {src_};
    o.hostname = "host";
    o.hash_threads = 2;
    o.content_opens = &opens_;
    opens_ = 0;
    errors_.clear();
    BackupProgress progress;
    auto stats = Backup(*repo_, o, clock_, &progress,
                        [&](const std::string& path, const Status&) { errors_.push_back(path); });
    EXPECT_OK(stats);
    last_ = stats.ok() ? *stats : BackupStats{};
    return last_;
  }

  format::Snapshot Snap(const Id& id) {
    auto json = repo_->LoadUnpacked(backend::FileType::kSnapshot, id);
    EXPECT_OK(json);
    auto sn = format::DecodeSnapshot(json.ok() ? *json : "{}");
    EXPECT_OK(sn);
    return sn.ok() ? *sn : format::Snapshot{};
  }
  // The node at `rel` (below src_) in the last snapshot.
  Result<Node> NodeAt(const std::string& rel) {
    return FindNode(*repo_, Snap(last_.snapshot_id).tree, src_ + (rel.empty() ? "" : "/" + rel));
  }
  std::string Content(const Node& n) {
    std::string out;
    for (const Id& id : n.content.value_or(std::vector<Id>{})) {
      auto blob = repo_->LoadBlob(repo::BlobKind::kData, id);
      EXPECT_OK(blob);
      if (blob.ok()) out.append(blob->begin(), blob->end());
    }
    return out;
  }
  std::vector<std::string> Names(const std::string& rel) {
    auto dir = NodeAt(rel);
    EXPECT_OK(dir);
    std::vector<std::string> out;
    if (!dir.ok() || !dir->subtree) return out;
    auto nodes = LoadTree(*repo_, *dir->subtree);
    EXPECT_OK(nodes);
    for (const Node& n : nodes.ok() ? *nodes : std::vector<Node>{}) out.push_back(n.name);
    return out;
  }
  // Returns once the file system's clock has moved past `path`'s ctime, so
  // that the next change of `path` gets a different ctime (timestamps come
  // from a coarse clock that ticks every few milliseconds).
  void WaitForFsClock(const std::string& path) {
    const struct stat before = Stat(path);
    const std::string probe = src_ + ".probe";  // beside the source, not in it
    for (;;) {
      std::ofstream(probe) << "x";
      const struct stat now = Stat(probe);
      if (now.st_ctim.tv_sec != before.st_ctim.tv_sec ||
          now.st_ctim.tv_nsec != before.st_ctim.tv_nsec) {
        break;
      }
    }
    fs::remove(probe);
  }
  // Sets `path`'s mtime to what `was` recorded (which changes its ctime).
  static void RestoreMtime(const std::string& path, const struct stat& was) {
    const struct timespec times[2] = {was.st_atim, was.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }

  std::string src_;
  std::atomic<uint64_t> opens_{0};
  std::vector<std::string> errors_;
  BackupStats last_;
};

TEST_F(ArchiverTest, TreesMirrorTheSourceAndAnUnchangedSourceKeepsItsTree) {
  Write("b/file.txt", "hello\n");
  Write("a.txt", "first\n");
  Write("b/c/deep.txt", "deep\n");
  ASSERT_EQ(::symlink("a.txt", (src_ + "/link").c_str()), 0);
  BackupStats first = Run();
  EXPECT_EQ(first.files_new, 3u);
  EXPECT_EQ(first.dirs_new, 2u + std::count(src_.begin(), src_.end(), '/'));
  EXPECT_EQ(Names(""), (std::vector<std::string>{"a.txt", "b", "link"}));  // sorted
  EXPECT_EQ(Names("b"), (std::vector<std::string>{"c", "file.txt"}));
  auto link = NodeAt("link");
  ASSERT_OK(link);
  EXPECT_EQ(link->type, NodeType::kSymlink);
  EXPECT_EQ(link->linktarget, "a.txt");
  EXPECT_FALSE(link->content.has_value());  // null for everything but files
  auto deep = NodeAt("b/c/deep.txt");
  ASSERT_OK(deep);
  EXPECT_EQ(Content(*deep), "deep\n");
  EXPECT_EQ(Snap(first.snapshot_id).paths, std::vector<std::string>{src_});

  // Trees are content-addressed: the unchanged source has the same tree.
  // (Not the snapshot's root: /tmp above it changes under other processes.)
  const std::optional<Id> first_tree = NodeAt("")->subtree;
  BackupStats second = Run();
  EXPECT_EQ(second.parent, first.snapshot_id);
  EXPECT_EQ(NodeAt("")->subtree, first_tree);
  EXPECT_EQ(second.data_blobs, 0u);
  EXPECT_EQ(second.files_unmodified, 3u);
}

TEST_F(ArchiverTest, FilesAreSplitIntoChunksThatDeduplicateAcrossFiles) {
  const std::string big = Pseudo(3 << 20, 1);  // about three 1 MiB chunks
  Write("one.bin", big);
  Write("copy.bin", big);
  Write("empty", "");
  BackupStats s = Run();
  auto one = NodeAt("one.bin");
  auto copy = NodeAt("copy.bin");
  auto empty = NodeAt("empty");
  ASSERT_OK(one);
  ASSERT_OK(copy);
  ASSERT_OK(empty);
  EXPECT_GE(one->content->size(), 2u);
  EXPECT_EQ(one->size, big.size());
  EXPECT_EQ(Content(*one), big);
  EXPECT_EQ(copy->content, one->content);
  EXPECT_EQ(s.data_blobs, one->content->size());  // the copy added nothing
  // The content once, plus a few small trees.
  EXPECT_GE(s.data_added, big.size());
  EXPECT_LT(s.data_added, big.size() + 16384);
  ASSERT_TRUE(empty->content.has_value());  // [] for an empty file, as restic
  EXPECT_TRUE(empty->content->empty());
  EXPECT_EQ(s.total_bytes_processed, 2 * big.size());
}

TEST_F(ArchiverTest, UnchangedFilesAreNotReadAgainAndTheirContentComesFromTheParent) {
  Write("same.txt", "same\n");
  Write("grows.txt", "v1\n");
  Run();
  auto before = NodeAt("same.txt");
  ASSERT_OK(before);
  WaitForFsClock(src_ + "/grows.txt");
  Write("grows.txt", "version two\n");
  BackupStats s = Run();
  EXPECT_EQ(opens_, 1u);  // only the changed file was opened
  EXPECT_EQ(s.files_unmodified, 1u);
  EXPECT_EQ(s.files_changed, 1u);
  auto after = NodeAt("same.txt");
  ASSERT_OK(after);
  EXPECT_EQ(after->content, before->content);
  auto grown = NodeAt("grows.txt");
  ASSERT_OK(grown);
  EXPECT_EQ(Content(*grown), "version two\n");
}

// The index and parent a backup preloads while its lock settles are kept
// only while the store's index files are those read: a prune (or any other
// client) that replaced them in between makes the backup load both again.
TEST_F(ArchiverTest, APreloadIsKeptOnlyWhileTheIndexFilesAreThoseItRead) {
  Write("same.txt", "same\n");
  Run();
  BackupOptions o;
  o.paths = {src_};
  o.hostname = "host";
  clock_.Advance(std::chrono::seconds(1));
  BackupPreload pre = PreloadBackup(*repo_, o, clock_.Now());
  ASSERT_TRUE(pre.index_loaded);
  ASSERT_TRUE(pre.parent.has_value());
  BackupOptions kept = o;
  ASSERT_OK(ConfirmPreload(*repo_, pre, &kept));
  EXPECT_TRUE(kept.index_loaded);
  EXPECT_EQ(kept.parent, pre.parent);
  BackupStats s = Run(kept);
  EXPECT_EQ(opens_, 0u);  // the preloaded parent was used
  EXPECT_EQ(s.files_unmodified, 1u);

  pre = PreloadBackup(*repo_, o, clock_.Now());
  Write("new.txt", "new\n");
  Run();  // a new index file
  BackupOptions fresh = o;
  ASSERT_OK(ConfirmPreload(*repo_, pre, &fresh));
  EXPECT_FALSE(fresh.index_loaded);
  EXPECT_FALSE(fresh.parent.has_value());
}

TEST_F(ArchiverTest, EachOfSizeMtimeCtimeAndInodeMakesAFileBeReadAgain) {
  const std::string path = Write("f.txt", "0123456789");
  Run();
  // Size alone (the mtime put back; ctime is ignored).
  const struct stat was = Stat(path);
  Write("f.txt", "0123456789abc");
  RestoreMtime(path, was);
  BackupOptions no_ctime;
  no_ctime.ignore_ctime = true;
  Run(no_ctime);
  EXPECT_EQ(opens_, 1u) << "a new size must be noticed";
  // Mtime alone: same size, new mtime.
  WaitForFsClock(path);
  Write("f.txt", "0123456789xyz");
  Run(no_ctime);
  EXPECT_EQ(opens_, 1u) << "a new mtime must be noticed";
  // Ctime alone: chmod changes nothing else. (Each run compares with the
  // one before, whose node already has the new values.)
  WaitForFsClock(path);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  Run();
  EXPECT_EQ(opens_, 1u) << "a new ctime must be noticed";
  WaitForFsClock(path);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  Run(no_ctime);
  EXPECT_EQ(opens_, 0u) << "--ignore-ctime";
  // Inode alone: an identical copy renamed over the file, mtime restored.
  auto replace = [&] {
    const struct stat was = Stat(path);
    const std::string copy = Write("f.txt.new", "0123456789xyz");
    RestoreMtime(copy, was);
    ASSERT_EQ(::rename(copy.c_str(), path.c_str()), 0);
    ASSERT_NE(Stat(path).st_ino, was.st_ino);
  };
  replace();
  Run(no_ctime);
  EXPECT_EQ(opens_, 1u) << "a new inode must be noticed";
  replace();
  BackupOptions no_inode;
  no_inode.ignore_inode = true;  // also ignores ctime, as restic
  Run(no_inode);
  EXPECT_EQ(opens_, 0u) << "--ignore-inode";
  // --force reads everything and names no parent.
  BackupOptions force;
  force.force = true;
  BackupStats forced = Run(force);
  EXPECT_EQ(opens_, 1u);
  EXPECT_FALSE(forced.parent.has_value());
}

TEST_F(ArchiverTest, ExcludeRulesLeaveOutWhatTheyMatch) {
  Write("keep.txt", "k");
  Write("skip.log", "l");
  Write("logs/app.log", "l");
  Write("cache/.nobackup", "");
  Write("cache/blob", "c");
  Write("big.bin", std::string(5000, 'b'));
  BackupOptions o;
  o.excludes = {"*.log"};
  o.exclude_if_present = {".nobackup"};
  o.exclude_larger_than = 4096;
  BackupStats s = Run(o);
  EXPECT_EQ(Names(""), (std::vector<std::string>{"cache", "keep.txt", "logs"}));
  EXPECT_EQ(Names("logs"), std::vector<std::string>{});
  // The tagged directory keeps only its tag file (restic's --exclude-if-present).
  EXPECT_EQ(Names("cache"), std::vector<std::string>{".nobackup"});
  EXPECT_EQ(s.files_new, 2u);
  EXPECT_EQ(Snap(s.snapshot_id).excludes, std::vector<std::string>{"*.log"});
}

TEST_F(ArchiverTest, AnUnreadableTargetIsReportedAndTheRestIsStillSaved) {
  Write("ok.txt", "fine");
  BackupOptions o;
  o.paths = {src_, src_ + "-missing"};
  BackupStats s = Run(o);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(errors_, std::vector<std::string>{src_ + "-missing"});
  auto ok = NodeAt("ok.txt");
  ASSERT_OK(ok);
  EXPECT_EQ(Content(*ok), "fine");
}

}  // namespace
}  // namespace stash::engine
