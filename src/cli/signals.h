// Private to cli: how the long-running commands (server, operator,
// run-backup) stop. SIGINT and SIGTERM are blocked in the constructing thread
// and in every thread it starts afterwards (threads inherit the mask), so no
// worker is interrupted by them; one thread receives them through Wait() or
// the OnStop watcher. SIGPIPE is ignored: a peer that closed its socket is an
// error return, not the death of the process.
//
// Thread-safety: construct it on the main thread before starting any other
// thread; Wait() and OnStop() are for one thread each.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace stash::cli {

class StopSignals {
 public:
  StopSignals();
  // Ends the OnStop watcher, without calling it, if no signal came.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until SIGINT or SIGTERM arrives; returns which.
  int Wait();
  // Calls on_stop(signal) on a watcher thread when SIGINT or SIGTERM
  // arrives before this object is destroyed. It may run until then: declare
  // what it touches before the StopSignals.
  void OnStop(std::function<void(int signal)> on_stop);

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace stash::cli
