// FaultProxy: a TCP proxy on 127.0.0.1 in front of a real peer server that
// misbehaves on a script: the next connections get an HTTP 500 or are
// dropped before any answer; later ones are forwarded untouched. Test-only;
// lets fault tests use the real HTTP stack and a real server.
//
// Thread-safety: Plan()/counters may be called while connections are served.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace stash::backend::testing {

enum class Fault { kHttp500, kDrop };

class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // Faults for the next connections, in order; afterwards connections are
  // forwarded. With `forever`, the last fault repeats without end. Open
  // forwarded connections are cut, so clients with pooled keep-alive
  // connections meet the faults too.
  void Plan(std::vector<Fault> faults, bool forever = false);
  int faults_served() const { return faults_served_; }
  int forwarded() const { return forwarded_; }

 private:
  void AcceptLoop();
  void Serve(int fd);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<Fault> plan_;
  bool forever_ = false;
  std::atomic<int> faults_served_{0};
  std::atomic<int> forwarded_{0};
  std::atomic<int> generation_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace stash::backend::testing
