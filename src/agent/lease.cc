#include "stash/agent/lease.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "stash/apis/client.h"
#include "stash/apis/coordination.h"
#include "stash/kube/events.h"

namespace stash::agent {

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
  const int32_t secs = int32_t(std::chrono::duration_cast<std::chrono::seconds>(duration_).count());
  auto got = apis::Get<apis::Lease>(client_, ns_, name_);
  if (!got.ok()) {
    if (got.status().code() != Code::kNotFound) return got.status();
    apis::Lease lease;
    lease.metadata.name = name_;
    lease.metadata.namespace_ = ns_;
    lease.spec.holder_identity = identity_;
    lease.spec.lease_duration_seconds = secs;
    lease.spec.acquire_time = FormatMicroTime(now);
    lease.spec.renew_time = FormatMicroTime(now);
    lease.spec.lease_transitions = 0;
    auto created = apis::Create(client_, lease);
    if (created.ok()) return true;
    if (created.status().code() == Code::kAlreadyExists) return false;
    return created.status();
  }
  apis::Lease lease = std::move(*got);
  apis::LeaseSpec& spec = lease.spec;
  const std::string holder = spec.holder_identity.value_or("");
  const bool ours = holder == identity_;
  bool expired = true;
  if (!holder.empty() && spec.renew_time) {
    auto renewed = kube::ParseTime(*spec.renew_time);
    const int64_t held_for = spec.lease_duration_seconds.value_or(secs);
    expired = !renewed.ok() || *renewed + std::chrono::seconds(held_for) < now;
  }
  if (!ours && !expired) return false;
  if (!ours) {
    spec.acquire_time = FormatMicroTime(now);
    spec.lease_transitions = spec.lease_transitions.value_or(0) + 1;
  }
  spec.holder_identity = identity_;
  spec.lease_duration_seconds = secs;
  spec.renew_time = FormatMicroTime(now);
  auto updated = apis::Update(client_, lease);
  if (updated.ok()) return true;
  if (updated.status().code() == Code::kConflict) return false;  // someone else won the race
  return updated.status();
}

void LeaderLease::Release() {
  auto got = apis::Get<apis::Lease>(client_, ns_, name_);
  if (!got.ok() || got->spec.holder_identity.value_or("") != identity_) return;
  apis::Lease lease = std::move(*got);
  lease.spec.holder_identity = "";
  lease.spec.renew_time = FormatMicroTime(SystemTime{});
  apis::Update(client_, lease).status().IgnoreError();
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

Status LeaseRenewer::lost_because() const {
  std::lock_guard<std::mutex> l(mu_);
  return lost_because_;
}

void LeaseRenewer::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  // Real time, not the injected clock: this only paces the renewals; the
  // Lease's own times come from the clock inside TryAcquireOrRenew.
  while (!cv_.wait_for(l, period_, [&] { return done_; })) {
    l.unlock();
    auto renewed = lease_.TryAcquireOrRenew();
    const Code code = renewed.ok() ? Code::kOk : renewed.status().code();
    if ((code == Code::kUnauthorized || code == Code::kForbidden) && !lost_.load()) {
      spdlog::error("renewing Lease {}: {}; giving up the lead", lease_.name(),
                    renewed.status().ToString());
      {
        std::lock_guard<std::mutex> g(mu_);
        lost_because_ = renewed.status();
      }
      lost_.store(true);
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
