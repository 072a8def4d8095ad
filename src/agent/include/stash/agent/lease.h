// LeaderLease: leader election on a coordination.k8s.io/v1 Lease, as
// client-go's leader election does (15 s lease, renewed every 5 s), so that
// only one replica of a workload backs up.
//
// Thread-safety: TryAcquireOrRenew/Release from one thread (a LeaseRenewer's
// while one is alive).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::agent {

class LeaderLease {
 public:
  LeaderLease(const kube::Client& client, Clock& clock, std::string ns, std::string name,
              std::string identity, Duration duration = std::chrono::seconds(15));

  // Takes the lease when it is free, expired or already ours; renews it when
  // ours. Returns true while we hold it.
  Result<bool> TryAcquireOrRenew();
  // Gives the lease up so another replica need not wait for expiry.
  void Release();

  const std::string& name() const { return name_; }

 private:
  const kube::Client& client_;
  Clock& clock_;
  const std::string ns_, name_, identity_;
  const Duration duration_;
};

// Keeps a held LeaderLease renewed from its own thread while long work (a
// backup that waits on a repository lock, a restore) runs on the caller's, as
// client-go's renew loop does: a leader busy for longer than the lease must
// not look dead to the other replicas, which would take over and mark its
// session interrupted. Renewal stops when the renewer is destroyed.
//
// Thread-safety: lost() and lost_because() from any thread.
class LeaseRenewer {
 public:
  explicit LeaseRenewer(LeaderLease& lease, Duration period = std::chrono::seconds(5));
  ~LeaseRenewer();
  LeaseRenewer(const LeaseRenewer&) = delete;
  LeaseRenewer& operator=(const LeaseRenewer&) = delete;

  // True once a renewal found the lease held by another replica, or was
  // refused (401/403: this replica can no longer hold it); renewal stops then.
  bool lost() const { return lost_.load(); }
  // Once lost(): the refusal (401/403) that lost it, for the caller to
  // report and back off on; OK when another replica holds the lease.
  Status lost_because() const;

 private:
  void Loop();

  LeaderLease& lease_;
  const Duration period_;
  std::atomic<bool> lost_{false};
  Status lost_because_;  // mu_
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// "2019-08-02T06:13:05.000000Z" (Lease MicroTime).
std::string FormatMicroTime(SystemTime t);

}  // namespace stash::agent
