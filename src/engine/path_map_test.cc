#include "stash/engine/path_map.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::engine {
namespace {

TEST(PathMap, LongestMountWinsAndUnmappedPathsPassThrough) {
  auto m = PathMap::Parse(R"({"/source": "/d/a", "/source/data/": "/d/pvc/"})");
  ASSERT_OK(m);
  EXPECT_EQ(m->ToHost("/source/data"), "/d/pvc/");
  EXPECT_EQ(m->ToHost("/source/data/x/y.txt"), "/d/pvc/x/y.txt");
  EXPECT_EQ(m->ToHost("/source/database"), "/d/a/database");
  EXPECT_EQ(m->ToHost("/etc/hosts"), "/etc/hosts");
  EXPECT_TRUE(m->Covers("/source"));
  EXPECT_FALSE(m->Covers("/sourcex"));
  EXPECT_FALSE(m->Covers("/"));
  auto inside = m->MountsIn("/source");
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].first, "data");
  EXPECT_EQ(m->MountsIn("/").size(), 1u);
  auto round = PathMap::Parse(m->Serialize());
  ASSERT_OK(round);
  EXPECT_EQ(round->ToHost("/source/data/z"), "/d/pvc/z");
}

TEST(PathMap, RejectsWhatTheRuntimeNeverWrites) {
  EXPECT_FALSE(PathMap::Parse("[1]").ok());
  EXPECT_FALSE(PathMap::Parse(R"({"/a": 3})").ok());
  EXPECT_FALSE(PathMap::Parse(R"({"rel/path": "/h"})").ok());
  EXPECT_OK(PathMap::Parse(""));
  EXPECT_TRUE(PathMap::Parse("").value().empty());
}

TEST(PathMap, RootMountMapsEverything) {
  auto m = PathMap::Parse(R"({"/": "/host/root"})");
  ASSERT_OK(m);
  EXPECT_EQ(m->ToHost("/a/b"), "/host/root/a/b");
  EXPECT_EQ(m->ToHost("/"), "/host/root");
}

}  // namespace
}  // namespace stash::engine
