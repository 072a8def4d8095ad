// FaultInjectingBackend: a decorator that makes a healthy backend misbehave on
// purpose, for tests of retry logic and of the layers above: fail the next N
// calls, fail a fraction of calls, or perform a call and then report it as
// failed (a response lost to a dropped connection).
//
// Thread-safety: all methods are thread-safe; the fault plan is guarded by a
// mutex and the wrapped backend must itself be thread-safe.
#pragma once

#include <atomic>
#include <mutex>

#include "stash/backend/forwarding.h"
#include "stash/core/random.h"

namespace stash::backend {

// Operations, as bits so one plan can cover several.
enum Op : unsigned {
  kOpCreate = 1,
  kOpSave = 2,
  kOpLoad = 4,
  kOpStat = 8,
  kOpList = 16,
  kOpRemove = 32,
  kOpAll = 63,
};

class FaultInjectingBackend final : public ForwardingBackend {
 public:
  explicit FaultInjectingBackend(BackendPtr inner);

  // The next `n` calls matching `ops` fail with `status` without reaching the
  // wrapped backend.
  void FailNext(int n, Status status, unsigned ops = kOpAll);
  // Each call matching `ops` fails with probability `fraction` (0 disables).
  void FailFraction(double fraction, Status status, Random& random, unsigned ops = kOpAll);
  // The next `n` calls matching `ops` are performed, then reported as failed
  // with kUnavailable, as when the connection drops before the answer.
  void LoseResponses(int n, unsigned ops = kOpAll);
  // Removes every planned fault.
  void Heal();
  // Calls received (including failed ones) for the given op bit.
  int calls(Op op) const;

  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  // Through Load, so its faults apply to direct reads too.
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override {
    return Backend::LoadUncached(h, offset, length, buf);
  }
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

 private:
  // Decides the fate of one call: an error to return instead of calling
  // through, and whether to drop the response afterwards.
  Status Before(Op op, bool* lose_response);
  Status Lost(Op op) const;

  mutable std::mutex mu_;
  int fail_next_ = 0;
  unsigned fail_next_ops_ = 0;
  Status fail_next_status_;
  double fraction_ = 0;
  unsigned fraction_ops_ = 0;
  Status fraction_status_;
  Random* random_ = nullptr;
  int lose_next_ = 0;
  unsigned lose_ops_ = 0;
  std::atomic<int> calls_[6] = {};
};

}  // namespace stash::backend
