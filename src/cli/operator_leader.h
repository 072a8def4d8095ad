// Leader election for `stash operator` replicas on a coordination.k8s.io/v1
// Lease, with client-go's timing (lease 15 s, renew deadline 10 s, retry
// 2 s): the holder runs the operator; the others wait and take over when the
// Lease expires. A leader that cannot renew within the deadline stops and
// exits non-zero (as client-go's OnStoppedLeading), so its Deployment
// restarts it as a follower; one stopped by a signal releases the Lease so
// a follower takes over at once.
//
// Thread-safety: RunLeaderElected blocks its calling thread; `stop` and
// `api_reachable` may be read/set from other threads.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::cli {

struct LeaderElectionOptions {
  std::string ns;    // the Lease's namespace
  std::string name;  // the Lease's name
  std::string identity;
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
};

// Runs `lead` once the Lease is ours and `stop_leading` when it is lost or
// `stop` is set. Returns the exit code: 0 after `stop`, 1 after losing the
// Lease or when `lead` fails. Sleeps on `clock` (Interrupt() wakes it).
int RunLeaderElected(const kube::Client& client, Clock& clock, const LeaderElectionOptions& opts,
                     const std::function<Status()>& lead, const std::function<void()>& stop_leading,
                     const std::atomic<bool>& stop, std::atomic<bool>* api_reachable);

}  // namespace stash::cli
