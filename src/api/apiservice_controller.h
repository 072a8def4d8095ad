// ApiServiceAvailabilityController: kube-aggregator's availability
// controller. Every APIService gets a status condition `Available`
// (`kubectl get apiservice` prints it in AVAILABLE): True with reason Local
// for a group this server serves itself; for one with spec.service, what
// Aggregator::Check finds (Service, port, ready endpoints, then the
// backend's discovery answer): True/Passed, or False with the reason and
// message kube gives (ServiceNotFound, ServicePortError, EndpointsNotFound,
// MissingEndpoints, FailedDiscoveryCheck). Checked when the APIService's
// spec, its Service or its Endpoints change, and every 30 s (a backend can
// stop answering without any object changing), and at once when the
// aggregator could not forward a request to it. lastTransitionTime moves
// only when the status flips; nothing is written when nothing changed.
//
// The probes go over the network (5 s bounds per step), so they run on a
// worker thread of their own, one at a time, never on the controllers'
// thread.
//
// Thread-safety: OnEvent/Process/Tick on ControllerManager's thread; the
// worker only reads the store and writes through ApiHandler (thread-safe).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "controllers.h"

namespace stash::api {

class Aggregator;

class ApiServiceAvailabilityController final : public Controller {
 public:
  ApiServiceAvailabilityController(ControllerContext& ctx, Aggregator* aggregator);
  ~ApiServiceAvailabilityController() override;
  std::string prefix() const override { return "apisvc"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;
  void Shutdown() override;

 private:
  // Queues a probe of the APIService (any thread).
  void Enqueue(const std::string& name);
  void Work();
  void Probe(const std::string& name);

  ControllerContext& ctx_;
  Aggregator* const aggregator_;  // null: every APIService is checked as Local
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pending_;
  std::set<std::string> queued_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace stash::api
