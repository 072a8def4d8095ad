#include "stash/core/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace stash {
namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, SleepersWakeOnlyWhenTimePassesTheirDeadline) {
  ManualClock clock;
  const SystemTime start = clock.Now();
  std::atomic<int> woke{0};
  std::thread t([&] {
    EXPECT_TRUE(clock.SleepUntil(start + 60s));
    woke = 1;
  });
  while (clock.sleepers() == 0) std::this_thread::yield();
  clock.Advance(30s);
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(woke.load(), 0);
  clock.Advance(30s);
  t.join();
  EXPECT_EQ(woke.load(), 1);
  EXPECT_EQ(clock.Now(), start + 60s);
}

TEST(ManualClockTest, InterruptWakesSleepersWithFalse) {
  ManualClock clock;
  std::thread t([&] { EXPECT_FALSE(clock.SleepFor(1h)); });
  while (clock.sleepers() == 0) std::this_thread::yield();
  clock.Interrupt();
  t.join();
}

TEST(RealClockTest, SleepsAndInterrupts) {
  RealClock clock;
  auto before = clock.Now();
  EXPECT_TRUE(clock.SleepFor(20ms));
  EXPECT_GE(clock.Now() - before, 20ms);
  // An Interrupt() only wakes threads already asleep, and nothing tells when
  // the sleeper has got there: keep interrupting until it wakes. A sleep
  // that ignored interrupts would run its 10 s and report true.
  std::atomic<bool> done{false};
  std::thread t([&] {
    EXPECT_FALSE(clock.SleepFor(10s));
    done = true;
  });
  while (!done) {
    clock.Interrupt();
    std::this_thread::sleep_for(1ms);
  }
  t.join();
}

}  // namespace
}  // namespace stash
