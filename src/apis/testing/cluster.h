// TestCluster: an in-process `stash server` (api::Server) on a free port
// with a ManualClock, and a kube::Client for it, so the operator's
// controllers and the sidecar are tested against the real API semantics
// (watches, status subresources, resourceVersion conflicts) without the
// binary, Python or kubectl.
//
//   TestCluster c;
//   ASSERT_OK(c.Start());
//   ASSERT_OK(c.Apply(R"({"apiVersion": "v1", "kind": "Secret", ...})"));
//   ASSERT_TRUE(c.WaitFor([&] { return ...; }));
//
// For tests only. Thread-safety: as kube::Client; WaitFor from the test thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stash/api/server.h"
#include "stash/apis/codec.h"
#include "stash/apis/core.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/client.h"

namespace stash::apis::testing {

class TestCluster {
 public:
  TestCluster();
  ~TestCluster();

  // Starts the server and creates the namespace "demo".
  Status Start();
  void Stop();

  ManualClock& clock() { return clock_; }
  const kube::Client& client() const { return *client_; }
  // A fresh directory removed with the cluster.
  const std::string& dir() const { return dir_; }

  // Creates the object described by `json_text` (its kind's resource is
  // looked up among the kinds this project uses).
  Status Apply(std::string_view json_text);

  // The events of namespace `ns` with `reason` (a failed list fails the test).
  std::vector<Event> Events(const std::string& ns, const std::string& reason) const;

  // Polls `ready` (every 10 ms of real time) until it holds or `timeout`
  // passes; the clock is not moved.
  bool WaitFor(const std::function<bool()>& ready,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  ManualClock clock_;
  SeededRandom random_{42};
  std::string dir_;
  std::unique_ptr<api::Server> server_;
  std::unique_ptr<kube::Client> client_;
};

}  // namespace stash::apis::testing
