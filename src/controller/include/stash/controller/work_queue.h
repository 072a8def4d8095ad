// WorkQueue: de-duplicating queue of object keys ("ns/name") with delayed
// re-adds and per-key exponential backoff, as controllers use. A key queued
// several times before it is taken is processed once, and a key is given to
// one worker at a time: re-added while in process, it waits for Done.
//
// Instrument() makes it report client-go's workqueue metrics under a name:
// workqueue_depth, workqueue_adds_total, workqueue_retries_total,
// workqueue_queue_duration_seconds (due → taken) and
// workqueue_work_duration_seconds (taken → Done: one reconcile each).
//
// Delays are measured on the injected clock; a worker waiting for work wakes
// on Add at once, and looks at the clock every 50 ms for delayed keys (so a
// ManualClock moved by a test releases them promptly).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "stash/core/clock.h"
#include "stash/core/metrics.h"

namespace stash::controller {

class WorkQueue {
 public:
  explicit WorkQueue(Clock& clock) : clock_(clock) {}

  // Reports to `metrics` (outliving the queue) with label name=`name`.
  void Instrument(MetricsRegistry* metrics, std::string name);

  void Add(const std::string& key) { AddAfter(key, Duration{0}); }
  void AddAfter(const std::string& key, Duration delay);
  // Requeues after the key's next backoff (1 s doubling to `max`).
  void AddRateLimited(const std::string& key, Duration max = std::chrono::seconds(60));
  // Requeues a key whose work met a newer version of what it wrote (a cache
  // behind the server): at once for the first few in a row, since the watch
  // brings the newer version within moments, then as AddRateLimited.
  // Forget resets the count.
  void AddConflicted(const std::string& key);
  void Forget(const std::string& key);  // resets the key's backoff

  // Blocks until a key is due and not in process, or `stop` is set (then
  // nullopt). The caller calls Done(key) when it finished with it.
  std::optional<std::string> Get(const std::atomic<bool>& stop);
  void Done(const std::string& key);

  // Blocks until `ready()` holds (true) or `stop` is set (false), checking
  // on every Wake() and every 50 ms.
  bool WaitUntil(const std::function<bool()>& ready, const std::atomic<bool>& stop);
  // Wakes every waiter (after `stop` was set, so they return).
  void Wake();
  // Threads blocked in Get or WaitUntil (lets tests wait until a worker is
  // parked).
  int waiting() const;

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, SystemTime> due_;
  std::map<std::string, int> failures_;
  std::map<std::string, int> conflicts_;
  std::set<std::string> processing_;
  std::map<std::string, SystemTime> started_;  // processing since (instrumented)
  MetricsRegistry* metrics_ = nullptr;
  std::string name_;

  void ReportDepthLocked();
  int waiting_ = 0;
};

}  // namespace stash::controller
