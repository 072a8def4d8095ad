#include "restore_meta.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "engine_fixture.h"
#include "stash/core/testing.h"

namespace stash::engine {
namespace {

class RestoreMetaTest : public testing::TempDirTest {
 protected:
};

TEST_F(RestoreMetaTest, AppliesModeAndTimesToFilesAndDirs) {
  std::string file = dir_ + "/f";
  std::ofstream(file) << "x";
  format::Node node;
  node.type = format::NodeType::kFile;
  node.mode = 0640;
  node.uid = geteuid();
  node.gid = getegid();
  node.mtime = {1000000000, 123456789, 0};
  node.atime = {1000000001, 5, 0};
  ASSERT_OK(RestoreMetadata(node, file));
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000001);

  std::string sub = dir_ + "/d";
  format::Node dnode = node;
  dnode.type = format::NodeType::kDir;
  dnode.mode = format::kGoModeDir | format::kGoModeSetgid | 0750;
  ASSERT_OK(CreateSpecialNode(dnode, sub));
  ASSERT_OK(RestoreMetadata(dnode, sub));
  ASSERT_EQ(stat(sub.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, static_cast<mode_t>(S_ISGID | 0750));
}

TEST_F(RestoreMetaTest, SymlinkKeepsTargetModeAndGetsItsOwnTimes) {
  std::string target = dir_ + "/t";
  std::ofstream(target) << "x";
  chmod(target.c_str(), 0600);
  format::Node link;
  link.type = format::NodeType::kSymlink;
  link.linktarget = "t";
  link.mode = format::kGoModeSymlink | 0777;
  link.uid = geteuid();
  link.gid = getegid();
  link.mtime = link.atime = {1200000000, 0, 0};
  std::string path = dir_ + "/l";
  ASSERT_OK(CreateSpecialNode(link, path));
  ASSERT_OK(RestoreMetadata(link, path));
  char buf[16] = {};
  ASSERT_EQ(readlink(path.c_str(), buf, sizeof buf - 1), 1);
  EXPECT_STREQ(buf, "t");
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
  ASSERT_EQ(stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // no chmod through the link
}

TEST_F(RestoreMetaTest, DanglingSymlinkAndFifo) {
  format::Node link;
  link.type = format::NodeType::kSymlink;
  link.linktarget = "/nonexistent/target";
  EXPECT_OK(CreateSpecialNode(link, dir_ + "/dangling"));
  format::Node fifo;
  fifo.type = format::NodeType::kFifo;
  fifo.mode = format::kGoModeNamedPipe | 0644;
  fifo.uid = geteuid();
  fifo.gid = getegid();
  ASSERT_OK(CreateSpecialNode(fifo, dir_ + "/fifo"));
  ASSERT_OK(RestoreMetadata(fifo, dir_ + "/fifo"));
  struct stat st {};
  ASSERT_EQ(lstat((dir_ + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Creating over an existing path fails and says where.
  Status again = CreateSpecialNode(fifo, dir_ + "/fifo");
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.message().find(dir_ + "/fifo"), std::string::npos);
}

}  // namespace
}  // namespace stash::engine
