#include "stash/engine/policy.h"

#include <gtest/gtest.h>

#include "stash/format/time.h"

namespace stash::engine {
namespace {

// A snapshot at an RFC 3339 time; the id's first byte is `n` so tests can name it.
SnapshotEntry Snap(int n, const std::string& time, std::vector<std::string> tags = {},
                   const std::string& host = "h1") {
  SnapshotEntry e;
  e.id.data()[0] = static_cast<uint8_t>(n);
  e.snapshot.time = *format::ParseRfc3339(time);
  e.snapshot.hostname = host;
  e.snapshot.paths = {"/data"};
  e.snapshot.tags = std::move(tags);
  return e;
}

std::vector<int> Ids(const std::vector<SnapshotEntry>& list) {
  std::vector<int> out;
  for (const auto& e : list) out.push_back(e.id.data()[0]);
  return out;
}

SystemTime Now() { return format::ToSystemTime(*format::ParseRfc3339("2030-01-01T00:00:00Z")); }

TEST(PolicyTest, KeepLastKeepsNewestAndRemovesTheRest) {
  ExpirePolicy p;
  p.last = 2;
  auto r = ApplyPolicy({Snap(1, "2024-01-01T10:00:00Z"), Snap(2, "2024-01-03T10:00:00Z"),
                        Snap(3, "2024-01-02T10:00:00Z")},
                       p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{2, 3}));
  EXPECT_EQ(Ids(r.remove), (std::vector<int>{1}));
  ASSERT_EQ(r.reasons.size(), 2u);
  EXPECT_EQ(r.reasons[0].matches, std::vector<std::string>{"last snapshot"});
  EXPECT_EQ(r.reasons[0].counters.last, 1);
  EXPECT_EQ(r.reasons[1].counters.last, 0);
}

TEST(PolicyTest, DailyKeepsNewestOfEachDayInTheSnapshotsOwnOffset) {
  ExpirePolicy p;
  p.daily = 5;
  // 23:30-05:00 on Jan 1 is Jan 2 in UTC, but restic buckets it on Jan 1,
  // the day of the older snapshot too.
  auto r = ApplyPolicy({Snap(1, "2024-01-01T10:00:00Z"), Snap(2, "2024-01-01T23:30:00-05:00"),
                        Snap(3, "2023-12-31T01:00:00Z")},
                       p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{2, 3}));
  EXPECT_EQ(Ids(r.remove), (std::vector<int>{1}));
}

TEST(PolicyTest, WeeklyUsesIsoWeeksAcrossTheYearBoundary) {
  ExpirePolicy p;
  p.weekly = 10;
  // 2024-12-30 (Mon) and 2025-01-05 (Sun) are both ISO week 2025-W01;
  // 2024-12-29 (Sun) is 2024-W52.
  auto r = ApplyPolicy({Snap(1, "2024-12-29T12:00:00Z"), Snap(2, "2024-12-30T12:00:00Z"),
                        Snap(3, "2025-01-05T12:00:00Z")},
                       p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{3, 1}));
  EXPECT_EQ(Ids(r.remove), (std::vector<int>{2}));
}

TEST(PolicyTest, CountsStopAfterTheirBudget) {
  ExpirePolicy p;
  p.monthly = 2;
  p.yearly = 1;
  auto r = ApplyPolicy({Snap(1, "2022-05-01T00:00:00Z"), Snap(2, "2023-03-01T00:00:00Z"),
                        Snap(3, "2023-04-01T00:00:00Z"), Snap(4, "2023-04-15T00:00:00Z")},
                       p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{4, 2}));
  EXPECT_EQ(r.reasons[0].matches,
            (std::vector<std::string>{"monthly snapshot", "yearly snapshot"}));
}

TEST(PolicyTest, WithinIsRelativeToNewestPastSnapshotWithGoDateNormalisation) {
  ExpirePolicy p;
  p.within = *ParseKeepDuration("1m");
  // Latest 2024-03-31 minus one month is "Feb 31" = Mar 2: Mar 1 is outside.
  // The snapshot dated after `now` is kept (it is newer) but is not "latest".
  auto r = ApplyPolicy({Snap(1, "2024-03-01T12:00:00Z"), Snap(2, "2024-03-02T12:00:01Z"),
                        Snap(3, "2024-03-31T12:00:00Z"), Snap(4, "2031-01-01T00:00:00Z")},
                       p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{4, 3, 2}));
  EXPECT_EQ(Ids(r.remove), (std::vector<int>{1}));
  EXPECT_EQ(r.reasons[0].matches, std::vector<std::string>{"within 1m"});
}

TEST(PolicyTest, WithinBucketsKeepOnePerBucketWithoutCount) {
  ExpirePolicy p;
  p.within_daily = *ParseKeepDuration("2d");
  auto r = ApplyPolicy({Snap(1, "2024-01-01T01:00:00Z"), Snap(2, "2024-01-02T01:00:00Z"),
                        Snap(3, "2024-01-02T05:00:00Z"), Snap(4, "2024-01-03T05:00:00Z")},
                       p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{4, 3}));
  EXPECT_EQ(r.reasons[0].matches, std::vector<std::string>{"daily within 2d"});
}

TEST(PolicyTest, KeepTagNeedsAllTagsOfOneList) {
  ExpirePolicy p;
  p.tags = {{"a", "b"}, {"c"}};
  auto r = ApplyPolicy(
      {Snap(1, "2024-01-01T00:00:00Z", {"a"}), Snap(2, "2024-01-02T00:00:00Z", {"b", "a"}),
       Snap(3, "2024-01-03T00:00:00Z", {"c"})},
      p, Now());
  EXPECT_EQ(Ids(r.keep), (std::vector<int>{3, 2}));
  EXPECT_EQ(r.reasons[1].matches, std::vector<std::string>{"has tags [a, b]"});
}

TEST(PolicyTest, EmptyPolicyKeepsEverything) {
  auto r = ApplyPolicy({Snap(1, "2024-01-01T00:00:00Z")}, ExpirePolicy{}, Now());
  EXPECT_EQ(Ids(r.keep), std::vector<int>{1});
  EXPECT_EQ(r.reasons[0].matches, std::vector<std::string>{"policy is empty"});
}

TEST(PolicyTest, DurationParsingAndPolicyText) {
  EXPECT_EQ(ParseKeepDuration("1y5m7d2h")->ToString(), "1y5m7d2h");
  EXPECT_EQ(ParseKeepDuration("3d")->days, 3);
  EXPECT_FALSE(ParseKeepDuration("3").ok());
  EXPECT_FALSE(ParseKeepDuration("3w").ok());
  EXPECT_FALSE(ParseKeepDuration("d").ok());
  ExpirePolicy p;
  p.last = 2;
  p.daily = 1;
  p.within_weekly = *ParseKeepDuration("1m");
  p.tags = {{"a", "b"}};
  p.within = *ParseKeepDuration("1d");
  EXPECT_EQ(p.ToString(),
            "keep 2 latest, 1 daily snapshots, weekly snapshots within 1m and all snapshots with "
            "tags [[a, b]] and all snapshots within 1d of the newest");
}

TEST(PolicyTest, GroupsWithResticsKeyJson) {
  auto a = Snap(1, "2024-01-01T00:00:00Z", {"y", "x"}, "h2");
  auto b = Snap(2, "2024-01-01T00:00:00Z", {}, "h1");
  b.snapshot.paths = {"/z", "/a"};
  auto groups = GroupSnapshots({a, b}, *ParseGroupBy("host,paths"));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].key_json, R"({"hostname":"h1","paths":["/a","/z"],"tags":null})");
  auto by_tags = GroupSnapshots({a, b}, *ParseGroupBy("tags"));
  ASSERT_EQ(by_tags.size(), 2u);
  EXPECT_EQ(by_tags[0].key_json, R"({"hostname":"","paths":null,"tags":["x","y"]})");
  EXPECT_EQ(GroupSnapshots({a, b}, *ParseGroupBy("")).size(), 1u);
  EXPECT_FALSE(ParseGroupBy("host,color").ok());
}

}  // namespace
}  // namespace stash::engine
