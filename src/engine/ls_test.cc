#include "stash/engine/ls.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "stash/engine/cat.h"

namespace stash::engine {
namespace {

format::Timestamp T(uint32_t nsec) { return {1795677248, nsec, 0}; }  // 2026-11-26 07:14:08Z

TEST(GoFileModeString, AsGoPrintsIt) {
  EXPECT_EQ(GoFileModeString(420), "-rw-r--r--");
  EXPECT_EQ(GoFileModeString(2147484141u), "drwxr-xr-x");
  EXPECT_EQ(GoFileModeString(134218239u), "Lrwxrwxrwx");
  EXPECT_EQ(GoFileModeString(33554852u), "prw-r--r--");
  EXPECT_EQ(GoFileModeString(2155872749u), "durwxr-xr-x");  // setuid dir: Go adds 'u'
  EXPECT_EQ(GoFileModeString(format::kGoModeDevice | format::kGoModeCharDevice | 0620),
            "Dcrw--w----");
}

TEST(Ls, LongLineAndJsonMatchRestic014) {
  setenv("TZ", "UTC", 1);
  tzset();
  format::Node link;
  link.name = "link";
  link.type = format::NodeType::kSymlink;
  link.mode = 134218239u;
  link.mtime = link.atime = link.ctime = T(82047559);
  link.linktarget = "a.txt";
  EXPECT_EQ(LsLongLine("/data/link", link),
            "Lrwxrwxrwx     0     0      0 2026-11-26 07:14:08 /data/link -> a.txt");

  format::Node file;
  file.name = "empty";
  file.type = format::NodeType::kFile;
  file.mode = 420;
  file.mtime = file.atime = file.ctime = T(118047560);
  EXPECT_EQ(LsNodeJson("/data/empty", file),
            "{\"name\":\"empty\",\"type\":\"file\",\"path\":\"/data/empty\",\"uid\":0,\"gid\":0,"
            "\"size\":0,\"mode\":420,\"permissions\":\"-rw-r--r--\",\"mtime\":\"2026-11-26T07:14:"
            "08.11804756Z\",\"atime\":\"2026-11-26T07:14:08.11804756Z\",\"ctime\":\"2026-11-26T07:"
            "14:08.11804756Z\",\"struct_type\":\"node\"}");
  format::Node dir = file;
  dir.type = format::NodeType::kDir;
  dir.mode = 2147484141u;
  dir.name = "a<b&c>";
  std::string json = LsNodeJson("/a<b&c>", dir);
  EXPECT_EQ(json.find("\"size\""), std::string::npos);  // only files carry a size
  EXPECT_NE(json.find("\"name\":\"a\\u003cb\\u0026c\\u003e\""), std::string::npos);
}

TEST(Ls, HasPathPrefixComparesWholeComponents) {
  EXPECT_TRUE(HasPathPrefix("/data", "/data"));
  EXPECT_TRUE(HasPathPrefix("/data", "/data/sub/x"));
  EXPECT_TRUE(HasPathPrefix("/data/", "/data/sub"));
  EXPECT_FALSE(HasPathPrefix("/data", "/database"));
  EXPECT_FALSE(HasPathPrefix("/data/sub", "/data"));
  EXPECT_TRUE(HasPathPrefix("/", "/anything"));
}

TEST(GoJsonIndent, AsGoMarshalIndent) {
  EXPECT_EQ(GoJsonIndent(R"({"version":2,"id":"ab","chunker_polynomial":"26c4"})"),
            "{\n  \"version\": 2,\n  \"id\": \"ab\",\n  \"chunker_polynomial\": \"26c4\"\n}");
  EXPECT_EQ(GoJsonIndent(R"({"paths":["/a","/b"],"tags":[],"x":{},"s":"a,b:{c}\"]"})"),
            "{\n  \"paths\": [\n    \"/a\",\n    \"/b\"\n  ],\n  \"tags\": [],\n  \"x\": {},\n"
            "  \"s\": \"a,b:{c}\\\"]\"\n}");
  EXPECT_EQ(GoJsonIndent(R"({"mac":{"k":"K","r":"R"},"encrypt":"E"})"),
            "{\n  \"mac\": {\n    \"k\": \"K\",\n    \"r\": \"R\"\n  },\n  \"encrypt\": \"E\"\n}");
}

}  // namespace
}  // namespace stash::engine
