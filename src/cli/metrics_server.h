// MetricsServer: the operator's Prometheus endpoint, plain HTTP/1.1 over
// Boost.Beast: GET (or HEAD) /metrics answers the exposition text of
// `source()` (Content-Type text/plain; version=0.0.4), anything else 404.
// A thread per connection (at most 16 at once; more wait in the backlog),
// keep-alive, 10 s to send a request.
//
// Thread-safety: construct and destroy from one thread; `source` is called
// from connection threads, concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stash/core/result.h"

namespace stash::cli {

class MetricsServer {
 public:
  // `bind`: "[HOST]:PORT" (":8080", "127.0.0.1:0" for any free port, "[::1]:9090").
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& bind,
                                                      std::function<std::string()> source);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

// Prometheus' standard process metrics of this process (process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds), read from
// /proc as client_golang's process collector does; empty when unreadable.
std::string ProcessMetrics();

}  // namespace stash::cli
