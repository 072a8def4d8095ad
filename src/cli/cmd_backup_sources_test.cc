#include "cmd_backup_sources.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "stash/core/testing.h"

namespace stash::cli {
namespace {

namespace fs = std::filesystem;

class SourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stash-sources-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& data) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  std::string dir_;
};

TEST_F(SourcesTest, GlobMatchesDotFilesAndSortsLikeGo) {
  Write("b.txt", "");
  Write(".a.txt", "");
  Write("c.log", "");
  auto m = GoGlob(dir_ + "/*.txt");
  ASSERT_OK(m);
  EXPECT_EQ(*m, (std::vector<std::string>{dir_ + "/.a.txt", dir_ + "/b.txt"}));
  EXPECT_EQ(GoGlob(dir_ + "/c.log").value().size(), 1u);  // no meta: lstat only
  EXPECT_TRUE(GoGlob(dir_ + "/missing").value().empty());
  EXPECT_FALSE(GoGlob(dir_ + "/[").ok());
}

TEST_F(SourcesTest, FilesFromTrimsCommentsAndWarnsAboutEmptyGlobs) {
  Write("x", "");
  std::string list = Write("list", "  " + dir_ + "/x  \r\n# comment\n\n" + dir_ + "/nope*\n");
  std::string verbatim = Write("verbatim", " spaced name \n#literal\n\n");
  std::string raw = Write("raw", std::string("a\nb\0c\0", 6));
  std::vector<std::string> warnings;
  TargetSources src{{list}, {verbatim}, {raw}};
  auto t = CollectTargets(src, {"arg"}, [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_OK(t);
  EXPECT_EQ(
      *t, (std::vector<std::string>{dir_ + "/x", " spaced name ", "#literal", "a\nb", "c", "arg"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("does not match any files"), std::string::npos);
  std::string bad = Write("bad", std::string("a\0b", 3));
  EXPECT_FALSE(CollectTargets({{}, {}, {bad}}, {}, [](const std::string&) {}).ok());
}

TEST_F(SourcesTest, ExcludeFilesExpandEnvironmentLikeGo) {
  setenv("STASH_T_X", "val", 1);
  std::string f =
      Write("ex", "\xEF\xBB\xBF*.tmp\n  $STASH_T_X/a  \n${STASH_T_X}b\n# c\n$$lit\n$\n");
  auto p = ReadExcludeFiles({f});
  ASSERT_OK(p);
  EXPECT_EQ(*p, (std::vector<std::string>{"*.tmp", "val/a", "valb", "$lit", "$"}));
  EXPECT_EQ(ExpandEnv("${}x${unclosed"), "xunclosed");  // Go eats "${}" and "${"
  EXPECT_FALSE(ReadExcludeFiles({dir_ + "/missing"}).ok());
}

}  // namespace
}  // namespace stash::cli
