#include "stash/agent/lease.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "stash/kube/events.h"

namespace stash::agent {

using kube::json;

std::string FormatMicroTime(SystemTime t) {
  std::string base = kube::FormatTime(t);  // ...SSZ
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  char frac[16];
  snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us < 0 ? us + 1000000 : us));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

LeaderLease::LeaderLease(const kube::Client& client, Clock& clock, std::string ns, std::string name,
                         std::string identity, Duration duration)
    : client_(client),
      clock_(clock),
      ns_(std::move(ns)),
      name_(std::move(name)),
      identity_(std::move(identity)),
      duration_(duration) {}

Result<bool> LeaderLease::TryAcquireOrRenew() {
  const SystemTime now = clock_.Now();
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(duration_).count();
  auto got = client_.Get(kube::res::kLeases, ns_, name_);
  if (!got.ok()) {
    if (got.status().code() != Code::kNotFound) return got.status();
    json lease = {{"metadata", {{"name", name_}, {"namespace", ns_}}},
                  {"spec",
                   {{"holderIdentity", identity_},
                    {"leaseDurationSeconds", secs},
                    {"acquireTime", FormatMicroTime(now)},
                    {"renewTime", FormatMicroTime(now)},
                    {"leaseTransitions", 0}}}};
    auto created = client_.Create(kube::res::kLeases, ns_, lease);
    if (created.ok()) return true;
    if (created.status().code() == Code::kAlreadyExists) return false;
    return created.status();
  }
  json lease = std::move(*got);
  json& spec = lease["spec"];
  std::string holder = spec.value("holderIdentity", "");
  bool ours = holder == identity_;
  bool expired = true;
  if (!holder.empty() && spec.contains("renewTime")) {
    auto renewed = kube::ParseTime(spec.value("renewTime", ""));
    int64_t held_for = spec.value("leaseDurationSeconds", secs);
    expired = !renewed.ok() || *renewed + std::chrono::seconds(held_for) < now;
  }
  if (!ours && !expired) return false;
  if (!ours) {
    spec["acquireTime"] = FormatMicroTime(now);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = identity_;
  spec["leaseDurationSeconds"] = secs;
  spec["renewTime"] = FormatMicroTime(now);
  auto updated = client_.Update(kube::res::kLeases, ns_, lease);
  if (updated.ok()) return true;
  if (updated.status().code() == Code::kConflict) return false;  // someone else won the race
  return updated.status();
}

void LeaderLease::Release() {
  auto got = client_.Get(kube::res::kLeases, ns_, name_);
  if (!got.ok() || got->value("/spec/holderIdentity"_json_pointer, "") != identity_) return;
  json lease = std::move(*got);
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["renewTime"] = FormatMicroTime(SystemTime{});
  client_.Update(kube::res::kLeases, ns_, lease).status().IgnoreError();
}

LeaseRenewer::LeaseRenewer(LeaderLease& lease, Duration period)
    : lease_(lease), period_(period), thread_([this] { Loop(); }) {}

LeaseRenewer::~LeaseRenewer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LeaseRenewer::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  // Real time, not the injected clock: this only paces the renewals; the
  // Lease's own times come from the clock inside TryAcquireOrRenew.
  while (!cv_.wait_for(l, period_, [&] { return done_; })) {
    l.unlock();
    auto renewed = lease_.TryAcquireOrRenew();
    const Code code = renewed.ok() ? Code::kOk : renewed.status().code();
    if ((code == Code::kUnauthorized || code == Code::kForbidden) && !lost_.exchange(true)) {
      spdlog::error("renewing Lease {}: {}; giving up the lead", lease_.name(),
                    renewed.status().ToString());
    } else if (!renewed.ok()) {
      spdlog::warn("renewing Lease {}: {}", lease_.name(), renewed.status().ToString());
    } else if (!*renewed && !lost_.exchange(true)) {
      spdlog::warn("Lease {} is now held by another replica", lease_.name());
    }
    // Once lost, the lease is not taken back behind the caller's back (it
    // would have two leaders until the caller sees lost()), as client-go
    // stops renewing.
    if (lost_.load()) return;
    l.lock();
  }
}

}  // namespace stash::agent
