#include "stash/backend/rate.h"

#include <gtest/gtest.h>

#include "jump_clock.h"
#include "stash/backend/memory.h"
#include "stash/core/testing.h"

namespace stash::backend {
namespace {

using namespace std::chrono_literals;

Handle Pack(int i) {
  std::string name(64, '0');
  name.replace(0, std::to_string(i).size(), std::to_string(i));
  return Handle{FileType::kPack, name};
}

TEST(RateLimitBackend, TwentyMiBAtOneMiBPerSecondTakesTwentySeconds) {
  JumpClock clock;
  RateLimitBackend b(std::make_unique<InMemoryBackend>("mem"), clock, KibPerSecond(1024), 0);
  std::vector<uint8_t> pack(4 << 20, 7);
  for (int i = 0; i < 5; ++i) ASSERT_OK(b.Save(Pack(i), pack));
  // 20 MiB at 1 MiB/s, less the 100 ms burst the bucket allows.
  EXPECT_NEAR(clock.Seconds(), 19.9, 0.01);
}

TEST(RateLimitBackend, DownloadsPayForWhatTheyReceivedAndUploadsAreUnlimited) {
  JumpClock clock;
  RateLimitBackend b(std::make_unique<InMemoryBackend>("mem"), clock, 0, 512 * 1024);
  std::vector<uint8_t> data(1 << 20, 1);
  ASSERT_OK(b.Save(Pack(1), data));
  EXPECT_EQ(clock.Seconds(), 0);  // no upload limit
  std::vector<uint8_t> out;
  ASSERT_OK(b.Load(Pack(1), 0, 256 * 1024, &out));  // a range costs only its bytes
  ASSERT_OK(b.Load(Pack(1), 0, 0, &out));
  EXPECT_NEAR(clock.Seconds(), 2.5 - 0.1, 0.01);
}

TEST(RateLimitBackend, AnIdleBucketSavesUpOnlyTheBurst) {
  JumpClock clock;
  ByteRateLimiter limiter(1000, 100ms);
  ASSERT_TRUE(limiter.Take(clock, 1000));
  EXPECT_NEAR(clock.Seconds(), 0.9, 1e-6);
  clock.Advance(1h);  // a long pause earns no long burst afterwards
  const double before = clock.Seconds();
  ASSERT_TRUE(limiter.Take(clock, 2000));
  EXPECT_NEAR(clock.Seconds() - before, 1.9, 1e-6);
}

}  // namespace
}  // namespace stash::backend
