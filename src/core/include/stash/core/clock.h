// Clock: the injected source of time.
//
// Code that schedules, times out or stamps objects takes a Clock& so tests can
// drive time by hand (ManualClock) instead of waiting. Only the composition
// root (cli) creates a RealClock.
//
// Thread-safety: all methods of both implementations are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace stash {

using SystemTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC based, as std::chrono::system_clock).
  virtual SystemTime Now() const = 0;
  // Blocks until Now() >= deadline or Interrupt() is called. Returns true when
  // the deadline was reached, false when interrupted.
  virtual bool SleepUntil(SystemTime deadline) = 0;
  bool SleepFor(Duration d) { return SleepUntil(Now() + d); }
  // Wakes every SleepUntil() caller; they return false. Later sleeps are not
  // affected.
  virtual void Interrupt() = 0;
};

// The system clock.
class RealClock final : public Clock {
 public:
  SystemTime Now() const override;
  bool SleepUntil(SystemTime deadline) override;
  void Interrupt() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t interrupt_epoch_ = 0;
};

// A clock that only moves when told to. Sleepers wake when Advance()/Set()
// moves time past their deadline.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start = SystemTime{} + std::chrono::hours(24 * 365 * 50));
  SystemTime Now() const override;
  bool SleepUntil(SystemTime deadline) override;
  void Interrupt() override;

  void Advance(Duration d);
  void Set(SystemTime t);
  // Number of threads currently blocked in SleepUntil (lets tests wait until a
  // worker is parked before advancing time).
  int sleepers() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  SystemTime now_;
  uint64_t interrupt_epoch_ = 0;
  int sleepers_ = 0;
};

}  // namespace stash
