#include "stash/format/time.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "stash/core/testing.h"

namespace stash::format {
namespace {

TEST(TimeTest, FormatsLikeGoRfc3339Nano) {
  // 2001-02-03T03:05:06.5Z shown in Berlin (+01:00), verified with restic 0.14.
  EXPECT_EQ(FormatRfc3339Nano({981169506, 500000000, 3600}), "2001-02-03T04:05:06.5+01:00");
  EXPECT_EQ(FormatRfc3339Nano({1795674700, 160343179, 0}), "2026-11-26T06:31:40.160343179Z");
  EXPECT_EQ(FormatRfc3339Nano({0, 0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano({0, 1000, -(9 * 3600 + 30 * 60)}),
            "1969-12-31T14:30:00.000001-09:30");
  EXPECT_EQ(FormatRfc3339Nano({-62135596800, 0, 0}), "0001-01-01T00:00:00Z");  // Go zero time
  // Zones with second offsets (LMT) print truncated minutes, as Go does.
  EXPECT_EQ(FormatRfc3339Nano({0, 0, 3208}), "1970-01-01T00:53:28+00:53");
  EXPECT_EQ(FormatRfc3339Nano({0, 0, -30}), "1969-12-31T23:59:30+00:00");
}

TEST(TimeTest, ClampsYearsLikeResticFixTime) {
  // 10000-02-29 becomes 9999-02-29, which rolls over to 03-01 as in Go.
  EXPECT_EQ(FormatRfc3339Nano({253402300800 + 59 * 86400, 0, 0}), "9999-03-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano({-62198755200 - 86400, 0, 0}).substr(0, 4), "0000");
}

TEST(TimeTest, ParseRoundTripsAndKeepsOffset) {
  for (std::string_view s : {"2001-02-03T04:05:06.5+01:00", "2026-11-26T06:18:20.160343179Z",
                             "1969-12-31T14:30:00.000001-09:30", "0001-01-01T00:00:00Z",
                             "2024-02-29T23:59:59.999999999+14:00"}) {
    auto t = ParseRfc3339(s);
    ASSERT_OK(t);
    EXPECT_EQ(FormatRfc3339Nano(*t), s);
  }
  auto t = ParseRfc3339("2001-02-03T04:05:06.5+01:00");
  EXPECT_EQ(t->unix_sec, 981169506);
  EXPECT_EQ(t->nsec, 500000000u);
  EXPECT_EQ(t->utc_offset_sec, 3600);
}

TEST(TimeTest, ParseAcceptsGoVariants) {
  auto t = ParseRfc3339("2001-02-03T04:05:06.1234567891234Z");  // >9 digits truncated
  ASSERT_OK(t);
  EXPECT_EQ(t->nsec, 123456789u);
  t = ParseRfc3339("2001-02-03T04:05:06.500Z");
  ASSERT_OK(t);
  EXPECT_EQ(FormatRfc3339Nano(*t), "2001-02-03T04:05:06.5Z");
}

TEST(TimeTest, ParseRejectsMalformed) {
  for (std::string_view bad :
       {"", "2001-02-03", "2001-02-03T04:05:06", "2001-13-03T04:05:06Z", "2001-02-29T04:05:06Z",
        "2001-02-03T24:05:06Z", "2001-02-03T04:05:60Z", "2001-02-03T04:05:06.Z",
        "2001-02-03T04:05:06+0100", "2001-02-03 04:05:06Z", "2001-02-03T04:05:06Zjunk"}) {
    EXPECT_EQ(ParseRfc3339(bad).status().code(), Code::kInvalid) << bad;
  }
}

TEST(TimeTest, LocalTimestampUsesTz) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
  Timestamp winter = LocalTimestamp(981169506, 500000000);
  Timestamp summer = LocalTimestamp(962593506, 0);  // 2000-07-03
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(FormatRfc3339Nano(winter), "2001-02-03T04:05:06.5+01:00");
  EXPECT_EQ(summer.utc_offset_sec, 7200);
  EXPECT_TRUE(winter.SameInstant({981169506, 500000000, 0}));
}

}  // namespace
}  // namespace stash::format
