#include "stash/kube/cron.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"
#include "stash/kube/events.h"

namespace stash::kube {
namespace {

SystemTime At(const char* rfc3339) { return *ParseTime(rfc3339); }
std::string Fmt(SystemTime t) { return FormatTime(t); }

struct Case {
  const char* spec;
  const char* after;
  const char* next;
};

TEST(Cron, NextActivationTable) {
  const Case cases[] = {
      {"*/5 * * * *", "2019-08-02T06:13:05Z", "2019-08-02T06:15:00Z"},
      {"*/5 * * * *", "2019-08-02T06:15:00Z", "2019-08-02T06:20:00Z"},  // strictly after
      {"*/1 * * * *", "2019-08-02T06:13:59Z", "2019-08-02T06:14:00Z"},
      {"0 0 * * *", "2019-12-31T23:59:59Z", "2020-01-01T00:00:00Z"},
      {"30 2 29 2 *", "2019-03-01T00:00:00Z", "2020-02-29T02:30:00Z"},      // leap day
      {"0 9 * * MON-FRI", "2019-08-02T10:00:00Z", "2019-08-05T09:00:00Z"},  // Fri → Mon
      {"0 0 1,15 * *", "2019-08-02T00:00:00Z", "2019-08-15T00:00:00Z"},
      {"0 0 13 * FRI", "2019-08-02T00:00:00Z", "2019-08-09T00:00:00Z"},  // Vixie OR: next Friday
      {"0 0 */10 * *", "2019-08-02T00:00:00Z", "2019-08-11T00:00:00Z"},  // 1,11,21,31
      {"15 10 * JUN-jul sun", "2019-01-01T00:00:00Z", "2019-06-02T10:15:00Z"},
      {"0 0 * * 7", "2019-08-02T00:00:00Z", "2019-08-04T00:00:00Z"},  // 7 = Sunday
      {"5-10/5 * * * *", "2019-08-02T06:06:00Z", "2019-08-02T06:10:00Z"},
      {"@hourly", "2019-08-02T06:13:05Z", "2019-08-02T07:00:00Z"},
      {"@daily", "2019-08-02T06:13:05Z", "2019-08-03T00:00:00Z"},
      {"@weekly", "2019-08-02T06:13:05Z", "2019-08-04T00:00:00Z"},
      {"@monthly", "2019-08-02T06:13:05Z", "2019-09-01T00:00:00Z"},
      {"@yearly", "2019-08-02T06:13:05Z", "2020-01-01T00:00:00Z"},
      {"@every 1h30m", "2019-08-02T06:13:05Z", "2019-08-02T07:43:05Z"},
      {"CRON_TZ=UTC 0 12 * * *", "2019-08-02T13:00:00Z", "2019-08-03T12:00:00Z"},
      {"*/2 * * * * *", "2019-08-02T06:13:05Z", "2019-08-02T06:13:06Z"},  // seconds extension
      {"30 */5 * * * *", "2019-08-02T06:13:05Z", "2019-08-02T06:15:30Z"},
  };
  for (const Case& c : cases) {
    auto s = ParseCron(c.spec);
    ASSERT_OK(s) << c.spec << ": " << s.status();
    EXPECT_EQ(Fmt(s->Next(At(c.after))), c.next) << c.spec << " after " << c.after;
  }
}

TEST(Cron, SubSecondInstantsRoundToTheNextWholeSecond) {
  auto s = ParseCron("* * * * * *");
  ASSERT_OK(s);
  SystemTime t = At("2019-08-02T06:13:05Z") + std::chrono::milliseconds(300);
  EXPECT_EQ(Fmt(s->Next(t)), "2019-08-02T06:13:06Z");
}

TEST(Cron, ImpossibleDateNeverFires) {
  auto s = ParseCron("0 0 30 2 *");
  ASSERT_OK(s);
  EXPECT_EQ(s->Next(At("2019-01-01T00:00:00Z")), SystemTime::max());
}

TEST(Cron, ErrorsNameTheSpecAndTheField) {
  const std::pair<const char*, const char*> bad[] = {
      {"61 * * * *", "minute: value 61 out of range 0-59"},
      {"* 24 * * *", "hour: value 24 out of range 0-23"},
      {"* * 0 * *", "day-of-month: value 0 out of range 1-31"},
      {"* * * FOO *", "month: unknown name \"FOO\""},
      {"* * * * 8", "day-of-week: value 8 out of range 0-6"},
      {"*/0 * * * *", "minute: bad step"},
      {"5-1 * * * *", "minute: range \"5-1\" ends before it starts"},
      {"* * * *", "expected 5 fields"},
      {"not a schedule", "expected 5 fields"},
      {"@sometimes", "unknown descriptor @sometimes"},
      {"@every 5x", "unknown unit"},
      {"TZ=Europe/Berlin 0 * * * *", "time zone Europe/Berlin is not supported"},
      {"", "expected 5 fields"},
  };
  for (const auto& [spec, want] : bad) {
    auto s = ParseCron(spec);
    ASSERT_FALSE(s.ok()) << spec;
    EXPECT_EQ(s.status().code(), Code::kInvalid) << spec;
    const std::string& msg = s.status().message();
    EXPECT_NE(msg.find("Invalid value: \"" + std::string(spec) + "\": Invalid schedule: "),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find(want), std::string::npos) << spec << " → " << msg;
  }
}

}  // namespace
}  // namespace stash::kube
