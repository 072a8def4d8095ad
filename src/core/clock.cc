#include "stash/core/clock.h"

namespace stash {

SystemTime RealClock::Now() const { return std::chrono::system_clock::now(); }

bool RealClock::SleepUntil(SystemTime deadline) {
  std::unique_lock lock(mu_);
  const uint64_t epoch = interrupt_epoch_;
  // system_clock can jump; wait in bounded slices so a jump is noticed.
  while (std::chrono::system_clock::now() < deadline) {
    if (interrupt_epoch_ != epoch) return false;
    auto slice =
        std::min<Duration>(deadline - std::chrono::system_clock::now(), std::chrono::seconds(1));
    cv_.wait_for(lock, slice);
  }
  return interrupt_epoch_ == epoch;
}

void RealClock::Interrupt() {
  std::lock_guard lock(mu_);
  ++interrupt_epoch_;
  cv_.notify_all();
}

ManualClock::ManualClock(SystemTime start) : now_(start) {}

SystemTime ManualClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

bool ManualClock::SleepUntil(SystemTime deadline) {
  std::unique_lock lock(mu_);
  const uint64_t epoch = interrupt_epoch_;
  ++sleepers_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return now_ >= deadline || interrupt_epoch_ != epoch; });
  --sleepers_;
  return interrupt_epoch_ == epoch;
}

void ManualClock::Interrupt() {
  std::lock_guard lock(mu_);
  ++interrupt_epoch_;
  cv_.notify_all();
}

void ManualClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += std::chrono::duration_cast<SystemTime::duration>(d);
  cv_.notify_all();
}

void ManualClock::Set(SystemTime t) {
  std::lock_guard lock(mu_);
  now_ = t;
  cv_.notify_all();
}

int ManualClock::sleepers() const {
  std::lock_guard lock(mu_);
  return sleepers_;
}

}  // namespace stash
