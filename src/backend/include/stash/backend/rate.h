// RateLimitBackend: holds uploads and downloads to a bandwidth, as restic's
// `--limit-upload` / `--limit-download` (KiB/s). Each direction is a token
// bucket shared by every call: a Save pays for its bytes before it starts
// (so concurrent uploads together stay under the limit), a Load pays for the
// bytes it received before it returns. Averaged over a transfer of a few
// seconds the rate is the limit; a single call may run faster for its own
// duration, as restic's limiter lets a read burst one second's worth.
//
// Time is injected (Clock&): tests drive the waits with a ManualClock.
//
// Thread-safety: thread-safe; the wrapped backend must be too.
#pragma once

#include <mutex>

#include "stash/backend/forwarding.h"
#include "stash/core/clock.h"

namespace stash::backend {

// A token bucket in "theoretical arrival time" form: each reservation of n
// bytes moves the bucket's clock forward by n / rate; a caller waits until
// that clock, less the allowed burst, is reached.
class ByteRateLimiter {
 public:
  // bytes_per_second > 0; burst: how far ahead of the average a caller may run.
  ByteRateLimiter(uint64_t bytes_per_second, Duration burst);
  // Blocks until `bytes` may go. Returns false when the clock was interrupted.
  bool Take(Clock& clock, uint64_t bytes);
  uint64_t bytes_per_second() const { return rate_; }

 private:
  const uint64_t rate_;
  const Duration burst_;
  std::mutex mu_;
  SystemTime tat_{};  // when every byte reserved so far has been paid for
};

class RateLimitBackend final : public ForwardingBackend {
 public:
  // Limits in bytes per second; 0 leaves that direction unlimited.
  RateLimitBackend(BackendPtr inner, Clock& clock, uint64_t upload_bytes_per_second,
                   uint64_t download_bytes_per_second);

  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override;

 private:
  Status Pay(ByteRateLimiter* limiter, uint64_t bytes, const Handle& h);

  Clock& clock_;
  std::unique_ptr<ByteRateLimiter> upload_;
  std::unique_ptr<ByteRateLimiter> download_;
};

// restic's KiB/s flag value → bytes per second (0 stays 0: unlimited).
constexpr uint64_t KibPerSecond(uint64_t kib) { return kib * 1024; }

}  // namespace stash::backend
