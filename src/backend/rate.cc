#include "stash/backend/rate.h"

#include <algorithm>

namespace stash::backend {

ByteRateLimiter::ByteRateLimiter(uint64_t bytes_per_second, Duration burst)
    : rate_(std::max<uint64_t>(bytes_per_second, 1)), burst_(burst) {}

bool ByteRateLimiter::Take(Clock& clock, uint64_t bytes) {
  SystemTime until;
  {
    std::lock_guard lock(mu_);
    const SystemTime now = clock.Now();
    // An idle bucket holds the burst, never more: a pause does not earn the
    // right to a long run at full speed afterwards.
    tat_ = std::max(tat_, now);
    const auto cost = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(rate_)));
    tat_ += cost;
    until = tat_ - burst_;
    if (until <= now) return true;
  }
  return clock.SleepUntil(until);
}

RateLimitBackend::RateLimitBackend(BackendPtr inner, Clock& clock, uint64_t upload,
                                   uint64_t download)
    : ForwardingBackend(std::move(inner)), clock_(clock) {
  // restic lets a stream run one second ahead; a tenth keeps a short
  // transfer's average close to the limit too.
  const Duration burst = std::chrono::milliseconds(100);
  if (upload) upload_ = std::make_unique<ByteRateLimiter>(upload, burst);
  if (download) download_ = std::make_unique<ByteRateLimiter>(download, burst);
}

Status RateLimitBackend::Pay(ByteRateLimiter* limiter, uint64_t bytes, const Handle& h) {
  if (!limiter || bytes == 0) return Status::Ok();
  if (limiter->Take(clock_, bytes)) return Status::Ok();
  return CancelledError("transfer of " + h.ToString() + " stopped while waiting for the " +
                        "bandwidth limit");
}

Status RateLimitBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  STASH_RETURN_IF_ERROR(Pay(upload_.get(), data.size(), h));
  return inner_->Save(h, data);
}

Status RateLimitBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                              std::vector<uint8_t>* out) {
  STASH_RETURN_IF_ERROR(inner_->Load(h, offset, length, out));
  return Pay(download_.get(), out->size(), h);
}

Result<std::span<uint8_t>> RateLimitBackend::LoadUncached(const Handle& h, uint64_t offset,
                                                          uint64_t length,
                                                          std::vector<uint8_t>* buf) {
  STASH_ASSIGN_OR_RETURN(std::span<uint8_t> got, inner_->LoadUncached(h, offset, length, buf));
  STASH_RETURN_IF_ERROR(Pay(download_.get(), got.size(), h));
  return got;
}

}  // namespace stash::backend
