// LeaderLease: leader election on a coordination.k8s.io/v1 Lease, as
// client-go's leader election does (15 s lease, renewed every 5 s), so that
// only one replica of a workload backs up.
//
// Thread-safety: TryAcquireOrRenew/Release from one thread.
#pragma once

#include <string>

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

// "2019-08-02T06:13:05.000000Z" (Lease MicroTime).
std::string FormatMicroTime(SystemTime t);

}  // namespace stash::agent
