#include "stash/engine/snapshots.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace stash::engine {
namespace {

class SnapshotsFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }

  static SnapshotEntry Entry(const std::string& id_hex, int64_t sec, uint32_t nsec,
                             std::string host, std::vector<std::string> tags,
                             std::vector<std::string> paths) {
    SnapshotEntry e;
    e.id = *Id::FromHex(id_hex);
    e.snapshot.time = {sec, nsec, 0};
    e.snapshot.tree = *Id::FromHex(std::string(64, 'a'));
    e.snapshot.hostname = std::move(host);
    e.snapshot.username = "root";
    e.snapshot.tags = std::move(tags);
    e.snapshot.paths = std::move(paths);
    return e;
  }
};

// 2026-11-26T07:14:08Z
constexpr int64_t kT = 1795677248;

TEST_F(SnapshotsFormat, TableMatchesRestic014) {
  auto a =
      Entry("bac6df57" + std::string(56, '0'), kT, 153399607, "hh", {"t1", "t2"}, {"/tmp/h6/data"});
  auto b = Entry("f8bbc0b2" + std::string(56, '0'), kT, 891514495, "vm", {}, {"/tmp/h6/data"});
  // Given newest first, printed oldest first.
  EXPECT_EQ(SnapshotsTable({b, a}, false),
            "ID        Time                 Host        Tags        Paths\n"
            "-------------------------------------------------------------------\n"
            "bac6df57  2026-11-26 07:14:08  hh          t1,t2       /tmp/h6/data\n"
            "f8bbc0b2  2026-11-26 07:14:08  vm                      /tmp/h6/data\n"
            "-------------------------------------------------------------------\n"
            "2 snapshots\n");
  EXPECT_EQ(SnapshotsTable({a, b}, true),
            "ID        Time                 Host  Tags\n"
            "-------------------------------------------\n"
            "bac6df57  2026-11-26 07:14:08  hh    t1\n"
            "                                     t2\n"
            "f8bbc0b2  2026-11-26 07:14:08  vm\n"
            "-------------------------------------------\n"
            "2 snapshots\n");
}

TEST_F(SnapshotsFormat, MultiPathRowsAreSeparatedByBlankLines) {
  auto a = Entry(std::string(64, '1'), kT, 0, "a-very-long-hostname", {}, {"/x", "/y"});
  auto b = Entry(std::string(64, '2'), kT + 1, 0, "h", {}, {"/z"});
  std::string table = SnapshotsTable({a, b}, false);
  EXPECT_NE(table.find("a-very-long-hostname  "), std::string::npos);
  EXPECT_NE(table.find("/x\n"), std::string::npos);
  // Second path of the first row on its own line, then a blank line, then row two.
  size_t y = table.find("/y\n");
  ASSERT_NE(y, std::string::npos);
  EXPECT_EQ(table.substr(y + 3, 1), "\n");
  EXPECT_EQ(table.substr(y + 4, 8), "22222222");
}

TEST_F(SnapshotsFormat, JsonAddsIdAndShortId) {
  auto a = Entry("bac6df57ec99966d9360ab34a8b9444defc58205a43d648f65bd8b120e0909bc", kT, 153399607,
                 "hh", {"t1", "t2"}, {"/tmp/h6/data"});
  a.snapshot.tree =
      *Id::FromHex("aeacfd6c9d02340093114ceb0bfc12c5ba211e34b81e528289faee6f930a64bc");
  EXPECT_EQ(SnapshotsJson({a}),
            "[{\"time\":\"2026-11-26T07:14:08.153399607Z\",\"tree\":"
            "\"aeacfd6c9d02340093114ceb0bfc12c5ba211e34b81e528289faee6f930a64bc\",\"paths\":[\"/"
            "tmp/h6/data\"],\"hostname\":\"hh\",\"username\":\"root\",\"tags\":[\"t1\",\"t2\"],"
            "\"id\":\"bac6df57ec99966d9360ab34a8b9444defc58205a43d648f65bd8b120e0909bc\","
            "\"short_id\":\"bac6df57\"}]\n");
  EXPECT_EQ(SnapshotsJson({}), "[]\n");
  EXPECT_NE(
      SnapshotJson(a, "snapshot").find(",\"short_id\":\"bac6df57\",\"struct_type\":\"snapshot\"}"),
      std::string::npos);
}

TEST_F(SnapshotsFormat, DescriptionAndGoTimeString) {
  auto a = Entry("f8bbc0b2" + std::string(56, '0'), kT, 891514495, "vm", {}, {"/tmp/h6/data"});
  EXPECT_EQ(DescribeSnapshot(a),
            "<Snapshot f8bbc0b2 of [/tmp/h6/data] at 2026-11-26 07:14:08.891514495 +0000 UTC by "
            "root@vm>");
  // A non-local offset prints as Go's nameless fixed zone.
  EXPECT_EQ(GoTimeString({kT, 500000000, 3600}), "2026-11-26 08:14:08.5 +0100 +0100");
}

TEST(SnapshotFilter, HostsTagsAndPathsAsRestic) {
  format::Snapshot sn;
  sn.hostname = "h1";
  sn.tags = {"a", "b"};
  sn.paths = {"/data", "/etc"};
  SnapshotFilter f;
  EXPECT_TRUE(f.Matches(sn));
  f.hosts = {"h2", "h1"};
  EXPECT_TRUE(f.Matches(sn));
  f.tags = {ParseTagList("a,c")};
  EXPECT_FALSE(f.Matches(sn));  // a list needs all of its tags
  f.tags.push_back(ParseTagList("b"));
  EXPECT_TRUE(f.Matches(sn));  // any list may match
  f.paths = {"/data", "/nope"};
  EXPECT_FALSE(f.Matches(sn));  // every path must be there
  f.paths = {"/etc"};
  EXPECT_TRUE(f.Matches(sn));
}

TEST(KeepLatestPerGroup, KeepsNewestPerHostAndPaths) {
  auto make = [](int64_t t, std::string host, std::string path) {
    SnapshotEntry e;
    e.id.data()[0] = static_cast<uint8_t>(t);
    e.snapshot.time = {t, 0, 0};
    e.snapshot.hostname = std::move(host);
    e.snapshot.paths = {std::move(path)};
    return e;
  };
  auto out = KeepLatestPerGroup({make(1, "a", "/x"), make(3, "a", "/x"), make(2, "a", "/x"),
                                 make(5, "b", "/x"), make(4, "a", "/y")},
                                1);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].snapshot.time.unix_sec, 3);  // oldest first
  EXPECT_EQ(out[1].snapshot.time.unix_sec, 4);
  EXPECT_EQ(out[2].snapshot.time.unix_sec, 5);
}

}  // namespace
}  // namespace stash::engine
