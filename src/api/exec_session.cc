// StdinPump and ExecSession (pod_exec.h): what kubectl exec over WebSocket
// and over SPDY share once the connection is upgraded.
#include <thread>

#include "pod_exec.h"

namespace stash::api {

namespace {
// Stdin queued for a command slower than the client: reading stops above
// kPauseAt bytes and resumes below kResumeAt.
constexpr size_t kPauseAt = 4 << 20, kResumeAt = 1 << 20;
}  // namespace

void StdinPump::Attach(std::shared_ptr<UpgradedConnection> connection) {
  std::lock_guard lock(mu_);
  if (!stopped_) conn_ = std::move(connection);
}

void StdinPump::Push(std::string bytes) {
  std::lock_guard lock(mu_);
  queued_bytes_ += bytes.size();
  queue_.push_back({false, std::move(bytes)});
  // PauseReading only queues work for the event loop: safe under mu_, and
  // under mu_ a pause cannot overtake the resume that follows it.
  if (!paused_ && queued_bytes_ > kPauseAt && conn_) {
    paused_ = true;
    conn_->PauseReading(true);
  }
  cv_.notify_all();
}

void StdinPump::PushEnd() {
  std::lock_guard lock(mu_);
  queue_.push_back({true, ""});
  cv_.notify_all();
}

void StdinPump::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  conn_.reset();
  cv_.notify_all();
}

void StdinPump::Run() {
  while (true) {
    Chunk c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
      if (queue_.empty()) return;
      c = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= c.bytes.size();
      if (paused_ && queued_bytes_ < kResumeAt && conn_) {
        paused_ = false;
        conn_->PauseReading(false);
      }
    }
    if (c.eof) {
      proc_.CloseStdin();
    } else if (!proc_.WriteStdin(c.bytes).ok()) {
      return;
    }
  }
}

void ExecSession::OnOpen(std::shared_ptr<UpgradedConnection> connection, std::string early) {
  stdin_.Attach(connection);
  {
    std::lock_guard lock(mu_);
    conn_ = std::move(connection);
  }
  auto self = shared_from_this();
  std::thread([self] { self->Output(); }).detach();
  std::thread([self] { self->stdin_.Run(); }).detach();
  if (!early.empty()) OnData(early);
}

void ExecSession::OnClose() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    conn_.reset();
  }
  stdin_.Stop();
  cv_.notify_all();
  proc_->Kill();
}

}  // namespace stash::api
