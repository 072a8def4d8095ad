// Backup walks directories ahead of itself on helper threads; what a user sees
// must be what a walk in order gives: the same trees and the errors in walk
// order.
#include "stash/engine/backup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "engine_fixture.h"
#include "stash/backend/local.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/format/snapshot.h"
#include "stash/format/tree.h"

namespace stash::engine {
namespace {

class BackupTest : public testing::RepoTest<> {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(InitRepository(Where::kDisk));
    ASSERT_EQ(mkdir((dir_ + "/src").c_str(), 0755), 0);
  }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ + "/src/" + rel) << text;
  }
  // The tree of src/ in the snapshot (the directories above it, /tmp
  // included, change under other processes).
  Id TreeOf(const BackupStats& stats) {
    auto json = repo_->LoadUnpacked(backend::FileType::kSnapshot, stats.snapshot_id);
    EXPECT_OK(json);
    auto sn = format::DecodeSnapshot(*json);
    EXPECT_OK(sn);
    Id tree = sn->tree;
    std::string rest = dir_.substr(1) + "/src";
    while (!rest.empty()) {
      const std::string name = rest.substr(0, rest.find('/'));
      rest = rest.size() > name.size() ? rest.substr(name.size() + 1) : "";
      auto blob = repo_->LoadBlob(repo::BlobKind::kTree, tree);
      EXPECT_OK(blob);
      auto nodes = format::DecodeTree(
          std::string_view(reinterpret_cast<const char*>(blob->data()), blob->size()));
      EXPECT_OK(nodes);
      bool found = false;
      for (const auto& n : *nodes) {
        if (n.name == name && n.subtree) {
          tree = *n.subtree;
          found = true;
        }
      }
      EXPECT_TRUE(found) << name;
      if (!found) return Id();
    }
    return tree;
  }
  Result<BackupStats> Run(BackupOptions opts, std::vector<std::string>* errors = nullptr) {
    opts.paths = {dir_ + "/src"};
    opts.hostname = "h";
    std::mutex mu;
    BackupErrorFn on_error = [&](const std::string& path, const Status&) {
      std::lock_guard lock(mu);
      if (errors) errors->push_back(path);
    };
    clock_.Advance(std::chrono::seconds(1));
    return Backup(*repo_, opts, clock_, nullptr, on_error);
  }
};

TEST_F(BackupTest, ManyDirectoriesGiveTheTreeOfAWalkInOrder) {
  for (int i = 0; i < 150; ++i) {
    std::string d = "d" + std::to_string(i);
    ASSERT_EQ(mkdir((dir_ + "/src/" + d).c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/src/" + d + "/sub").c_str(), 0755), 0);
    for (int j = 0; j < 7; ++j) Write(d + "/f" + std::to_string(j), d + "/" + std::to_string(j));
    Write(d + "/sub/x", "x" + d);
  }
  auto ahead = Run({});
  ASSERT_OK(ahead);
  EXPECT_EQ(ahead->files_new, 150u * 8);
  // Tag rules turn the scans ahead off: the plain walk in order.
  BackupOptions in_order;
  in_order.exclude_if_present = {"no-such-tag-file"};
  in_order.force = true;
  auto plain = Run(in_order);
  ASSERT_OK(plain);
  EXPECT_EQ(TreeOf(*ahead), TreeOf(*plain));
  // And the parent trees the scans load ahead make every file unchanged.
  auto again = Run({});
  ASSERT_OK(again);
  EXPECT_EQ(again->files_unmodified, 150u * 8);
  EXPECT_EQ(TreeOf(*again), TreeOf(*ahead));
}

// Directories nested deeper than PATH_MAX cannot be listed by their path:
// each branch fails at the same depth, and the errors must come in walk order
// whichever helper thread met them first.
TEST_F(BackupTest, ErrorsOfDirectoriesScannedAheadComeInWalkOrder) {
  const std::string long_name(200, 'n');
  std::vector<std::string> branches;
  for (int i = 0; i < 40; ++i) {
    char b[8];
    std::snprintf(b, sizeof b, "b%02d", i);
    branches.push_back(b);
    int fd = open((dir_ + "/src").c_str(), O_DIRECTORY | O_RDONLY);
    ASSERT_GE(fd, 0);
    for (int depth = 0; depth < 22; ++depth) {
      const std::string name = depth == 0 ? branches.back() : long_name;
      ASSERT_EQ(mkdirat(fd, name.c_str(), 0755), 0);
      int next = openat(fd, name.c_str(), O_DIRECTORY | O_RDONLY);
      close(fd);
      ASSERT_GE(next, 0);
      fd = next;
    }
    close(fd);
  }
  std::vector<std::string> errors;
  auto stats = Run({}, &errors);
  ASSERT_OK(stats);
  ASSERT_EQ(errors.size(), branches.size());
  for (size_t i = 0; i < branches.size(); ++i) {
    EXPECT_EQ(errors[i].rfind(dir_ + "/src/" + branches[i] + "/", 0), 0u) << errors[i];
  }
}

TEST_F(BackupTest, AStoppedBackupEndsCancelledWithoutASnapshot) {
  for (int i = 0; i < 40; ++i) {
    std::string d = "d" + std::to_string(i);
    ASSERT_EQ(mkdir((dir_ + "/src/" + d).c_str(), 0755), 0);
    for (int j = 0; j < 5; ++j) Write(d + "/f" + std::to_string(j), d + std::to_string(j));
  }
  std::atomic<bool> stop{true};
  BackupOptions opts;
  opts.cancel = &stop;
  auto stopped = Run(opts);
  EXPECT_EQ(stopped.status().code(), Code::kCancelled) << stopped.status().ToString();
  auto snaps = repo_->ListIds(backend::FileType::kSnapshot);
  ASSERT_OK(snaps);
  EXPECT_TRUE(snaps->empty());
  // Not set: the same backup completes.
  stop = false;
  auto done = Run(opts);
  ASSERT_OK(done);
  EXPECT_EQ(done->files_new, 200u);
}

}  // namespace
}  // namespace stash::engine
