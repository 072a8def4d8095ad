#include "stash/engine/progress.h"

#include <gtest/gtest.h>

#include <atomic>

namespace stash::engine {
namespace {

using namespace std::chrono_literals;

TEST(ProgressMeter, ReportsRateAndResticsEtaOnceTheScanHasFinished) {
  ManualClock clock;
  BackupProgress p;
  ProgressMeter meter(p, clock, 5s);
  p.total_files = 10;
  p.total_bytes = 1000;
  clock.Advance(2s);
  p.bytes_done = 100;
  p.files_done = 1;
  ProgressReport r = meter.Sample();
  EXPECT_EQ(r.seconds_elapsed, 2u);
  EXPECT_DOUBLE_EQ(r.percent_done, 0.1);
  EXPECT_FALSE(r.seconds_remaining);  // totals still growing
  EXPECT_EQ(FormatStatusLine(r), "[0:02] 1 files 100 B, total 10 files 1000 B, 0 errors");

  p.scan_finished = true;
  clock.Advance(2s);
  p.bytes_done = 400;
  r = meter.Sample();
  // restic: elapsed / done * left = 4 / 400 * 600.
  ASSERT_TRUE(r.seconds_remaining);
  EXPECT_EQ(*r.seconds_remaining, 6u);
  EXPECT_DOUBLE_EQ(r.bytes_per_second, 150);  // 300 bytes in the last 2 s
  EXPECT_EQ(FormatStatusLine(r),
            "[0:04] 40.00%  1 files 400 B, total 10 files 1000 B, 0 errors ETA 0:06");
}

TEST(ProgressMeter, TheRateLooksOnlyAtTheRecentWindow) {
  ManualClock clock;
  BackupProgress p;
  ProgressMeter meter(p, clock, 5s);
  for (int i = 1; i <= 10; ++i) {
    clock.Advance(1s);
    p.bytes_done += i <= 5 ? 1000 : 100;  // fast, then slow
    (void)meter.Sample();
  }
  clock.Advance(1s);
  p.bytes_done += 100;
  EXPECT_NEAR(meter.Sample().bytes_per_second, 100, 1);
}

TEST(ProgressFormat, JsonStatusHasResticsFieldsAndOmitsZeros) {
  ProgressReport r;
  EXPECT_EQ(FormatStatusJson(r), R"({"message_type":"status","percent_done":0})");
  r.seconds_elapsed = 3;
  r.seconds_remaining = 7;
  r.percent_done = 0.3;
  r.total_files = 5;
  r.files_done = 2;
  r.total_bytes = 1000;
  r.bytes_done = 300;
  r.errors = 1;
  r.current_files = {"/a\"b", "/c"};
  EXPECT_EQ(FormatStatusJson(r),
            R"({"message_type":"status","seconds_elapsed":3,"seconds_remaining":7,)"
            R"("percent_done":0.3,"total_files":5,"files_done":2,"total_bytes":1000,)"
            R"("bytes_done":300,"error_count":1,"current_files":["/a\"b","/c"]})");
  r.percent_done = 1e-7;
  EXPECT_NE(FormatStatusJson(r).find(R"("percent_done":1e-7,)"), std::string::npos);
}

TEST(ProgressFormat, DurationsAndPercentAsRestic) {
  EXPECT_EQ(FormatSeconds(0), "0:00");
  EXPECT_EQ(FormatSeconds(61), "1:01");
  EXPECT_EQ(FormatSeconds(3725), "1:02:05");
  EXPECT_EQ(FormatPercent(1, 3), "33.33%");
  EXPECT_EQ(FormatPercent(5, 3), "100.00%");
  EXPECT_EQ(FormatPercent(1, 0), "");
  EXPECT_EQ(ProgressIntervalFromFps("0.5"), std::optional<Duration>(2s));
  EXPECT_EQ(ProgressIntervalFromFps("600"),
            std::optional<Duration>(Duration(1s) / 60));  // Go: time.Second / 60
  EXPECT_FALSE(ProgressIntervalFromFps("0"));
  EXPECT_FALSE(ProgressIntervalFromFps("x"));
}

TEST(ProgressReporter, CallsBackEveryIntervalAndOnceMoreAtStop) {
  ManualClock clock;
  BackupProgress p;
  std::atomic<int> calls{0};
  std::atomic<uint64_t> last_bytes{0};
  ProgressReporter reporter(p, clock, 1s, [&](const ProgressReport& r) {
    last_bytes = r.bytes_done;
    ++calls;
  });
  for (int i = 1; i <= 3; ++i) {
    p.bytes_done = i * 10;
    clock.Advance(1s);
    while (calls < i) std::this_thread::yield();
  }
  EXPECT_EQ(last_bytes, 30u);
  p.bytes_done = 99;
  reporter.Stop(true);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(last_bytes, 99u);
}

TEST(BackupProgress, CurrentFilesAreThoseStartedAndNotFinished) {
  BackupProgress p;
  p.StartFile("/b");
  p.StartFile("/a");
  p.StartFile("/c");
  p.FinishFile("/b");
  EXPECT_EQ(p.CurrentFiles(), (std::vector<std::string>{"/a", "/c"}));
}

}  // namespace
}  // namespace stash::engine
