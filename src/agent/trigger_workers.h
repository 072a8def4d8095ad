// TriggerWorkers: a few threads that run the trigger CronJobs'
// `stash create-backupsession` inside the node instead of as a process per
// tick. With a thousand BackupConfigurations on one schedule, a process each
// (exec, kubeconfig, TLS handshake) costs tens of seconds of CPU at every
// tick; the same function on a warm client costs milliseconds. The result and
// the events are exactly those of the command (agent::CreateBackupSession).
//
// Thread-safety: Submit from one thread; jobs run on the workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stash::agent {

class TriggerWorkers {
 public:
  explicit TriggerWorkers(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~TriggerWorkers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void Submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;  // pending runs are dropped: the node is going away
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stash::agent
