#include "signals.h"

#include <pthread.h>

namespace stash::cli {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

StopSignals::~StopSignals() {
  if (!watcher_.joinable()) return;
  done_ = true;
  // The watcher sits in sigwait: a signal aimed at it alone releases it.
  pthread_kill(watcher_.native_handle(), SIGTERM);
  watcher_.join();
}

int StopSignals::Wait() {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

void StopSignals::OnStop(std::function<void(int signal)> on_stop) {
  watcher_ = std::thread([this, on_stop = std::move(on_stop)] {
    const int sig = Wait();
    if (!done_) on_stop(sig);
  });
}

}  // namespace stash::cli
