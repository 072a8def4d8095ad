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

Result<Duration> ParseGoDuration(const std::string& text) {
  Duration total{0};
  size_t i = 0;
  if (text.empty()) return InvalidError("empty duration");
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return InvalidError("invalid duration \"" + text + "\"");
    double value = std::stod(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double ns;
    if (unit == "h")
      ns = 3600e9;
    else if (unit == "m")
      ns = 60e9;
    else if (unit == "s")
      ns = 1e9;
    else if (unit == "ms")
      ns = 1e6;
    else if (unit == "us" || unit == "µs")
      ns = 1e3;
    else if (unit == "ns")
      ns = 1;
    else
      return InvalidError("invalid duration \"" + text + "\": unit must be h, m, s, ms, us or ns");
    total += Duration(static_cast<int64_t>(value * ns));
  }
  return total;
}

}  // namespace stash::cli
