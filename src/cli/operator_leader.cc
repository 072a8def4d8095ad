#include "operator_leader.h"

#include <iostream>

#include "stash/agent/lease.h"

namespace stash::cli {

int RunLeaderElected(const kube::Client& client, Clock& clock, const LeaderElectionOptions& opts,
                     const std::function<Status()>& lead, const std::function<void()>& stop_leading,
                     const std::atomic<bool>& stop, std::atomic<bool>* api_reachable) {
  agent::LeaderLease lease(client, clock, opts.ns, opts.name, opts.identity, opts.lease_duration);
  const std::string what = "Lease " + opts.ns + "/" + opts.name;
  std::cerr << "stash operator: " << opts.identity << " waiting to lead (" << what << ")\n";
  bool leading = false;
  SystemTime last_renew{};
  int code = 0;
  while (!stop) {
    Result<bool> held = lease.TryAcquireOrRenew();
    if (api_reachable) *api_reachable = held.ok();
    const SystemTime now = clock.Now();
    if (held.ok() && *held) {
      last_renew = now;
      if (!leading) {
        leading = true;
        std::cerr << "stash operator: " << opts.identity << " became the leader (" << what << ")\n";
        if (Status s = lead(); !s.ok()) {
          std::cerr << "stash operator: starting the operator: " << s.message() << "\n";
          code = 1;
          break;
        }
      }
    } else if (!held.ok()) {
      std::cerr << "stash operator: " << what << ": " << held.status().message() << "\n";
    }
    if (leading && !(held.ok() && *held) && now - last_renew >= opts.renew_deadline) {
      std::cerr << "stash operator: " << opts.identity << " lost the leadership (" << what
                << " not renewed within "
                << std::chrono::duration_cast<std::chrono::seconds>(opts.renew_deadline).count()
                << " s); exiting so a restart rejoins as a follower\n";
      stop_leading();
      return 1;
    }
    if (!clock.SleepFor(opts.retry_period)) continue;  // interrupted: re-check `stop`
  }
  if (leading) {
    stop_leading();
    lease.Release();
    std::cerr << "stash operator: released " << what << "\n";
  }
  return code;
}

}  // namespace stash::cli
