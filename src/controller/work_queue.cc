#include "stash/controller/work_queue.h"

#include <algorithm>

namespace stash::controller {

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  std::lock_guard<std::mutex> lock(mu_);
  SystemTime when = clock_.Now() + delay;
  auto it = due_.find(key);
  if (it == due_.end() || when < it->second) due_[key] = when;
}

void WorkQueue::AddRateLimited(const std::string& key, Duration max) {
  int n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = failures_[key]++;
  }
  Duration d = std::chrono::seconds(1) * (int64_t(1) << std::min(n, 10));
  AddAfter(key, std::min(d, max));
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
}

std::optional<std::string> WorkQueue::Get(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      SystemTime now = clock_.Now();
      for (auto it = due_.begin(); it != due_.end(); ++it) {
        if (it->second <= now && !processing_.count(it->first)) {
          std::string key = it->first;
          due_.erase(it);
          processing_.insert(key);
          return key;
        }
      }
    }
    // Polling in short slices keeps the queue on the injected clock.
    clock_.SleepUntil(clock_.Now() + std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace stash::controller
