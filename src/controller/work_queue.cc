#include "stash/controller/work_queue.h"

#include <algorithm>

namespace stash::controller {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(50);

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void WorkQueue::Instrument(MetricsRegistry* metrics, std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_ = metrics;
  name_ = std::move(name);
  ReportDepthLocked();
}

void WorkQueue::ReportDepthLocked() {
  if (!metrics_) return;
  metrics_->Gauge("workqueue_depth", "Current depth of workqueue", {{"name", name_}},
                  static_cast<double>(due_.size()));
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    SystemTime when = clock_.Now() + delay;
    auto it = due_.find(key);
    if (it == due_.end() || when < it->second) due_[key] = when;
    if (metrics_) {
      metrics_->Add("workqueue_adds_total", "Total number of adds handled by workqueue",
                    {{"name", name_}});
      ReportDepthLocked();
    }
  }
  cv_.notify_one();
}

void WorkQueue::AddRateLimited(const std::string& key, Duration max) {
  int n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = failures_[key]++;
    if (metrics_) {
      metrics_->Add("workqueue_retries_total", "Total number of retries handled by workqueue",
                    {{"name", name_}});
    }
  }
  Duration d = std::chrono::seconds(1) * (int64_t(1) << std::min(n, 10));
  AddAfter(key, std::min(d, max));
}

void WorkQueue::AddConflicted(const std::string& key) {
  // A few immediate retries cover a watch event in flight; more in a row is
  // contention, and backs off as any failure.
  constexpr int kImmediate = 5;
  int n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = conflicts_[key]++;
  }
  if (n < kImmediate) {
    Add(key);
  } else {
    AddRateLimited(key);
  }
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
  conflicts_.erase(key);
}

void WorkQueue::Done(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    processing_.erase(key);
    if (auto it = started_.find(key); it != started_.end()) {
      if (metrics_) {
        metrics_->Observe("workqueue_work_duration_seconds",
                          "How long in seconds processing an item from workqueue takes.",
                          {{"name", name_}}, Seconds(clock_.Now() - it->second));
      }
      started_.erase(it);
    }
  }
  cv_.notify_all();  // the key may be due again for another worker
}

std::optional<std::string> WorkQueue::Get(const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop.load()) {
    const SystemTime now = clock_.Now();
    for (auto it = due_.begin(); it != due_.end(); ++it) {
      if (it->second <= now && !processing_.count(it->first)) {
        std::string key = it->first;
        if (metrics_) {
          metrics_->Observe("workqueue_queue_duration_seconds",
                            "How long in seconds an item stays in workqueue before being "
                            "requested",
                            {{"name", name_}}, Seconds(now - it->second));
          started_[key] = now;
        }
        due_.erase(it);
        processing_.insert(key);
        ReportDepthLocked();
        return key;
      }
    }
    // Delayed keys fall due on the injected clock, so waiting is bounded
    // rather than computed from it (a ManualClock does not pass in real time).
    ++waiting_;
    cv_.wait_for(lock, kPoll);
    --waiting_;
  }
  return std::nullopt;
}

bool WorkQueue::WaitUntil(const std::function<bool()>& ready, const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop.load()) {
    if (ready()) return true;
    ++waiting_;
    cv_.wait_for(lock, kPoll);
    --waiting_;
  }
  return false;
}

void WorkQueue::Wake() { cv_.notify_all(); }

int WorkQueue::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace stash::controller
