// HealthServer: the operator's probe endpoints for a kubelet, plain HTTP:
// GET /healthz answers 200 while the process serves; GET /readyz answers 200
// while `ready()` is true and 500 otherwise. One thread; a client gets 2 s to
// send its request.
//
// Thread-safety: construct and destroy from one thread; `ready` is called
// from the server's thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "stash/core/result.h"

namespace stash::cli {

class HealthServer {
 public:
  // `bind` is ":8081", "0.0.0.0:8081" or "127.0.0.1:0" (any free port).
  static Result<std::unique_ptr<HealthServer>> Start(const std::string& bind,
                                                     std::function<bool()> ready);
  ~HealthServer();
  int port() const { return port_; }

 private:
  HealthServer(int fd, int port, std::function<bool()> ready);
  void Serve();
  void Answer(int fd);

  const int fd_;
  const int port_;
  std::function<bool()> ready_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace stash::cli
