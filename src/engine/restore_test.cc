// End-to-end tests of the Restorer (and Checker) on a repository built
// through the real Repository on a LocalBackend in a temp dir.
#include "stash/engine/restore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine_fixture.h"
#include "stash/backend/local.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/check.h"
#include "stash/format/snapshot.h"
#include "stash/format/tree.h"

namespace stash::engine {
namespace {

class RestoreTest : public testing::RepoTest<> {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(InitRepository(Where::kDisk, 4 << 20));
    BuildSnapshot();
  }

  Id Save(repo::BlobKind kind, const std::string& data) {
    Id id = crypto::Sha256(data);
    auto saved = repo_->SaveBlob(
        kind, id, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
    EXPECT_OK(saved);
    return id;
  }
  format::Node File(std::string name, std::vector<std::string> chunks) {
    format::Node n;
    n.name = std::move(name);
    n.type = format::NodeType::kFile;
    n.mode = 0640;
    n.uid = geteuid();
    n.gid = getegid();
    n.mtime = n.atime = n.ctime = {1600000000, 123456789, 0};
    n.links = 1;
    n.content.emplace();
    for (const std::string& c : chunks) {
      n.content->push_back(Save(repo::BlobKind::kData, c));
      n.size += c.size();
    }
    return n;
  }
  static std::string Random(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    for (auto& c : s) {
      seed = seed * 1103515245 + 12345;
      c = static_cast<char>(seed >> 16);
    }
    return s;
  }
  Id Tree(std::vector<format::Node> nodes) {
    format::SortNodes(&nodes);
    auto json = format::EncodeTree(nodes);
    EXPECT_OK(json);
    return Save(repo::BlobKind::kTree, *json);
  }

  void BuildSnapshot() {
    content_a_ = Random(300000, 1) + std::string(100000, 'z') + Random(5000, 2);
    std::vector<format::Node> sub = {File("inner", {"inner data"})};
    format::Node subdir;
    subdir.name = "sub";
    subdir.type = format::NodeType::kDir;
    subdir.mode = format::kGoModeDir | 0750;
    subdir.mtime = subdir.atime = {1500000000, 0, 0};
    subdir.uid = geteuid();
    subdir.gid = getegid();
    subdir.subtree = Tree(sub);

    std::string zeros(1 << 20, '\0');
    format::Node sparse = File("sparse", {zeros, zeros, "tail", zeros});
    format::Node a = File("a", {content_a_.substr(0, 300000), content_a_.substr(300000)});
    format::Node h1 = File("h1", {"linked"});
    h1.links = 2;
    h1.inode = 77;
    h1.device_id = 5;
    format::Node h2 = h1;
    h2.name = "h2";
    format::Node empty = File("empty", {});
    format::Node link;
    link.name = "link";
    link.type = format::NodeType::kSymlink;
    link.linktarget = "a";
    link.mode = format::kGoModeSymlink | 0777;
    link.uid = geteuid();
    link.gid = getegid();
    format::Node sock;
    sock.name = "sock";
    sock.type = format::NodeType::kSocket;
    Id root = Tree({a, sparse, h1, h2, empty, link, subdir, sock});
    ASSERT_OK(repo_->Flush());
    entry_.snapshot.tree = root;
    entry_.snapshot.paths = {"/x"};
    entry_.snapshot.hostname = "h";
    auto id =
        repo_->SaveUnpacked(backend::FileType::kSnapshot, format::EncodeSnapshot(entry_.snapshot));
    ASSERT_OK(id);
    entry_.id = *id;
    ASSERT_OK(repo_->LoadIndex());
  }

  static std::string Read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  std::vector<std::string> errors_;
  RestoreErrorFn Collect() {
    return [this](const std::string& loc, const Status& s) {
      errors_.push_back(loc + ": " + s.message());
    };
  }

  SnapshotEntry entry_;
  std::string content_a_;
};

TEST_F(RestoreTest, RestoresContentMetadataHolesAndHardlinks) {
  RestoreOptions opts;
  opts.target = dir_ + "/out";
  Restorer r(*repo_, entry_, std::move(opts), Collect());
  auto stats = r.Run();
  ASSERT_OK(stats);
  EXPECT_TRUE(errors_.empty()) << errors_[0];
  const std::string out = dir_ + "/out";
  EXPECT_EQ(Read(out + "/a"), content_a_);
  EXPECT_EQ(Read(out + "/sub/inner"), "inner data");
  EXPECT_EQ(Read(out + "/empty"), "");
  std::string sparse = Read(out + "/sparse");
  ASSERT_EQ(sparse.size(), 3u * (1 << 20) + 4);
  EXPECT_EQ(sparse.substr(2 << 20, 4), "tail");
  EXPECT_EQ(sparse.find_first_not_of('\0'), 2u << 20);
  struct stat st {};
  ASSERT_EQ(stat((out + "/sparse").c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "zero blobs must stay holes";
  EXPECT_EQ(stats->bytes_skipped, 3u << 20);

  struct stat s1 {
  }, s2{};
  ASSERT_EQ(stat((out + "/h1").c_str(), &s1), 0);
  ASSERT_EQ(stat((out + "/h2").c_str(), &s2), 0);
  EXPECT_EQ(s1.st_ino, s2.st_ino);
  EXPECT_EQ(s1.st_nlink, 2u);

  ASSERT_EQ(stat((out + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  ASSERT_EQ(stat((out + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000) << "dir times are set after its children";
  char target[8] = {};
  EXPECT_EQ(readlink((out + "/link").c_str(), target, sizeof target), 1);
  EXPECT_NE(lstat((out + "/sock").c_str(), &st), 0) << "sockets are not restored";

  auto verified = r.Verify();
  ASSERT_OK(verified);
  EXPECT_EQ(*verified, 4u);  // a, sparse, h1 (h2 is its hardlink), sub/inner
  EXPECT_TRUE(errors_.empty());
}

TEST_F(RestoreTest, IncludeRestoresOnlyTheMatchAndItsParents) {
  RestoreOptions opts;
  opts.target = dir_ + "/inc";
  opts.includes = *PatternList::Parse({"/sub/inner"});
  Restorer r(*repo_, entry_, std::move(opts), Collect());
  ASSERT_OK(r.Run());
  EXPECT_EQ(Read(dir_ + "/inc/sub/inner"), "inner data");
  struct stat st {};
  EXPECT_NE(stat((dir_ + "/inc/a").c_str(), &st), 0);
  ASSERT_EQ(stat((dir_ + "/inc/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u) << "the parent's metadata is restored too";

  RestoreOptions ex;
  ex.target = dir_ + "/exc";
  ex.excludes = *PatternList::Parse({"sub", "sparse"});
  Restorer r2(*repo_, entry_, std::move(ex), Collect());
  ASSERT_OK(r2.Run());
  EXPECT_EQ(Read(dir_ + "/exc/a"), content_a_);
  EXPECT_NE(stat((dir_ + "/exc/sub").c_str(), &st), 0);
  EXPECT_NE(stat((dir_ + "/exc/sparse").c_str(), &st), 0);
}

TEST_F(RestoreTest, CorruptPackIsReportedPerFileAndByCheck) {
  // Flip a byte in the middle of every data pack.
  std::vector<std::string> packs;
  ASSERT_OK(repo_->backend().List(backend::FileType::kPack, [&](const backend::FileInfo& fi) {
    packs.push_back(fi.name);
    return Status::Ok();
  }));
  auto a_blob = repo_->Lookup(repo::BlobKind::kData, crypto::Sha256(content_a_.substr(0, 300000)));
  ASSERT_TRUE(a_blob.has_value());
  std::string path =
      dir_ + "/repo/data/" + a_blob->pack.Hex().substr(0, 2) + "/" + a_blob->pack.Hex();
  chmod(path.c_str(), 0600);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(a_blob->offset + 100);
    f.put('\x42');
  }
  RestoreOptions opts;
  opts.target = dir_ + "/bad";
  Restorer r(*repo_, entry_, std::move(opts), Collect());
  auto stats = r.Run();
  ASSERT_OK(stats);
  ASSERT_GE(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].rfind("/a: pack " + a_blob->pack.Hex(), 0), 0u) << errors_[0];
  EXPECT_EQ(Read(dir_ + "/bad/sub/inner"), "inner data") << "other files are still restored";

  std::vector<std::string> check_errors;
  CheckOptions copts;
  copts.read_data = true;
  Checker checker(*repo_, copts,
                  CheckOutput{nullptr, [&](const std::string& e) { check_errors.push_back(e); }},
                  random_);
  auto found = checker.Run();
  ASSERT_OK(found);
  EXPECT_TRUE(*found);
  ASSERT_EQ(check_errors.size(), 1u);
  EXPECT_NE(check_errors[0].find("pack " + a_blob->pack.Hex()), std::string::npos);
  EXPECT_NE(check_errors[0].find("blob " + crypto::Sha256(content_a_.substr(0, 300000)).Hex()),
            std::string::npos)
      << check_errors[0];
}

}  // namespace
}  // namespace stash::engine

namespace stash::engine {
namespace {

TEST_F(RestoreTest, CheckNamesTreeAndBlobMissingFromTheIndex) {
  format::Node ghost = File("ghost", {});
  Id missing = crypto::Sha256(std::string("never saved"));
  ghost.content = std::vector<Id>{missing};
  ghost.size = 11;
  Id tree = Tree({ghost});
  ASSERT_OK(repo_->Flush());
  format::Snapshot sn;
  sn.tree = tree;
  sn.paths = {"/y"};
  ASSERT_OK(repo_->SaveUnpacked(backend::FileType::kSnapshot, format::EncodeSnapshot(sn)));
  std::vector<std::string> errs;
  Checker checker(*repo_, CheckOptions{},
                  CheckOutput{nullptr, [&](const std::string& e) { errs.push_back(e); }}, random_);
  auto found = checker.Run();
  ASSERT_OK(found);
  EXPECT_TRUE(*found);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "error for tree " + tree.ShortHex() + ":");
  EXPECT_EQ(errs[1], "  tree " + tree.Hex() + ": file \"ghost\" blob " + missing.Hex() +
                         " not found in index");
}

}  // namespace
}  // namespace stash::engine
