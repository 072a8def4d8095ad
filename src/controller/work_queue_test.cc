#include "stash/controller/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace stash::controller {
namespace {

TEST(WorkQueue, KeysQueuedTwiceAreProcessedOnce) {
  ManualClock clock;
  WorkQueue q(clock);
  std::atomic<bool> stop{false};
  q.Add("bc:demo/a");
  q.Add("bc:demo/a");
  q.Add("bc:demo/b");
  EXPECT_EQ(q.Get(stop), "bc:demo/a");
  q.Done("bc:demo/a");
  EXPECT_EQ(q.Get(stop), "bc:demo/b");
  q.Done("bc:demo/b");
  // Nothing left: Get blocks until stopped.
  std::thread stopper([&] {
    while (q.waiting() == 0) std::this_thread::yield();
    stop = true;
    q.Wake();
  });
  EXPECT_FALSE(q.Get(stop).has_value());
  stopper.join();
}

TEST(WorkQueue, DelayedKeysWaitForTheClock) {
  ManualClock clock;
  WorkQueue q(clock);
  std::atomic<bool> stop{false};
  q.AddAfter("bc:demo/late", std::chrono::seconds(10));
  q.Add("bc:demo/now");
  EXPECT_EQ(q.Get(stop), "bc:demo/now");
  std::optional<std::string> got;
  std::thread getter([&] { got = q.Get(stop); });
  while (q.waiting() == 0) std::this_thread::yield();
  EXPECT_FALSE(got.has_value());
  clock.Advance(std::chrono::seconds(10));
  getter.join();
  EXPECT_EQ(got, "bc:demo/late");
}

// A conflict (a cache behind the server) is retried at once a few times in a
// row, without waiting for the clock, then backs off as a failure; Forget
// starts the count again.
TEST(WorkQueue, ConflictsAreRetriedAtOnceAFewTimesThenBackOff) {
  ManualClock clock;
  WorkQueue q(clock);
  std::atomic<bool> stop{false};
  q.Add("bc:demo/a");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(q.Get(stop), "bc:demo/a") << i;
    q.AddConflicted("bc:demo/a");
    q.Done("bc:demo/a");
  }
  ASSERT_EQ(q.Get(stop), "bc:demo/a");
  q.AddConflicted("bc:demo/a");  // the sixth in a row: after the back-off
  q.Done("bc:demo/a");
  std::optional<std::string> got;
  std::thread getter([&] { got = q.Get(stop); });
  while (q.waiting() == 0) std::this_thread::yield();
  EXPECT_FALSE(got.has_value());
  clock.Advance(std::chrono::seconds(1));
  getter.join();
  EXPECT_EQ(got, "bc:demo/a");
  q.Done("bc:demo/a");
  q.Forget("bc:demo/a");
  q.AddConflicted("bc:demo/a");
  EXPECT_EQ(q.Get(stop), "bc:demo/a");
  q.Done("bc:demo/a");
}

TEST(WorkQueue, AKeyInProcessGoesToNoSecondWorkerUntilDone) {
  ManualClock clock;
  WorkQueue q(clock);
  std::atomic<bool> stop{false};
  q.Add("bc:demo/a");
  EXPECT_EQ(q.Get(stop), "bc:demo/a");
  q.Add("bc:demo/a");  // changed again while being reconciled
  q.Add("bc:demo/b");
  EXPECT_EQ(q.Get(stop), "bc:demo/b");  // not a again: another worker has it
  q.Done("bc:demo/a");
  EXPECT_EQ(q.Get(stop), "bc:demo/a");  // then it is reconciled once more
}

}  // namespace
}  // namespace stash::controller

namespace stash::controller {
namespace {

TEST(WorkQueue, InstrumentedQueueReportsDepthAddsRetriesAndWorkDurations) {
  ManualClock clock;
  MetricsRegistry m;
  WorkQueue q(clock);
  q.Instrument(&m, "backupconfiguration");
  std::atomic<bool> stop{false};
  q.Add("a");
  q.Add("b");
  EXPECT_NE(m.Exposition().find("workqueue_depth{name=\"backupconfiguration\"} 2\n"),
            std::string::npos);
  auto key = q.Get(stop);
  ASSERT_TRUE(key);
  clock.Advance(std::chrono::milliseconds(300));
  q.AddRateLimited(*key);
  q.Done(*key);
  const std::string text = m.Exposition();
  EXPECT_NE(text.find("workqueue_adds_total{name=\"backupconfiguration\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("workqueue_retries_total{name=\"backupconfiguration\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("workqueue_work_duration_seconds_sum{name=\"backupconfiguration\"} 0.3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("workqueue_work_duration_seconds_count{name=\"backupconfiguration\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("workqueue_depth{name=\"backupconfiguration\"} 2\n"), std::string::npos);
}

}  // namespace
}  // namespace stash::controller
