// Private to backend's tests: a Clock whose SleepUntil jumps to the deadline
// at once and records how long each wait was, so the retry back-off and the
// rate limiter are tested to the microsecond without sleeping.
//
// Thread-safety: one thread at a time (the tests that use it wait in one).
#pragma once

#include <algorithm>
#include <vector>

#include "stash/core/clock.h"

namespace stash::backend {

class JumpClock final : public Clock {
 public:
  SystemTime Now() const override { return now_; }
  bool SleepUntil(SystemTime deadline) override {
    sleeps.push_back(deadline - now_);
    now_ = std::max(now_, deadline);
    return true;
  }
  void Interrupt() override {}
  void Advance(Duration d) { now_ += d; }
  // Seconds since the clock was made.
  double Seconds() const { return std::chrono::duration<double>(now_ - start_).count(); }

  std::vector<Duration> sleeps;  // each SleepUntil's wait, in order

 private:
  const SystemTime start_ = SystemTime{} + std::chrono::hours(1000);
  SystemTime now_ = start_;
};

}  // namespace stash::backend
