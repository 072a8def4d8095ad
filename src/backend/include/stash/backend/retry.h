// RetryBackend: retries calls that failed with a retryable Status (5xx,
// timeouts, resets) with exponential backoff and jitter, up to a number of
// attempts and a total time. Non-retryable errors (not found, forbidden,
// invalid) return at once.
//
// Retries are made safe for the non-idempotent-looking calls: a Save that
// finds its file already there after a lost answer checks the size and counts
// as done; a Remove that finds the file gone after a lost answer too; a List
// interrupted half-way is restarted without repeating names already handed to
// the callback.
//
// Time and randomness are injected, so tests drive the backoff with a
// ManualClock (or tiny delays) and never sleep for real.
//
// Thread-safety: as thread-safe as the wrapped backend; no shared mutable
// state besides the Random (which is thread-safe).
#pragma once

#include "stash/backend/forwarding.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"

namespace stash::backend {

struct RetryOptions {
  int max_attempts = 10;
  Duration initial_delay = std::chrono::milliseconds(500);
  Duration max_delay = std::chrono::seconds(30);
  // No new attempt starts after this much time since the first one.
  Duration max_elapsed = std::chrono::minutes(5);
};

class RetryBackend final : public ForwardingBackend {
 public:
  RetryBackend(BackendPtr inner, Clock& clock, Random& random, RetryOptions options = {});

  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

 private:
  // Runs `attempt(n)` (n = 1, 2, …) until it succeeds, fails permanently or
  // the budget is spent; `what` names the operation in messages and logs.
  Status Run(const std::string& what, const std::function<Status(int attempt)>& attempt);
  Duration Backoff(int attempt);

  Clock& clock_;
  Random& random_;
  RetryOptions options_;
};

}  // namespace stash::backend
