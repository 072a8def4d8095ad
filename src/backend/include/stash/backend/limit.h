// LimitBackend: bounds the number of calls in flight to the wrapped backend
// (Stash's `maxConnections`, restic's `-o <backend>.connections`). Callers
// beyond the bound wait their turn. List holds a slot while it reads the listing
// and calls the callback afterwards, so the callback may use the backend.
//
// Thread-safety: thread-safe; the wrapped backend must be too.
#pragma once

#include <condition_variable>
#include <mutex>

#include "stash/backend/forwarding.h"

namespace stash::backend {

class LimitBackend final : public ForwardingBackend {
 public:
  LimitBackend(BackendPtr inner, int max_connections);

  int Connections() const override { return limit_; }
  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

  // Highest number of concurrent calls observed (for tests and metrics).
  int peak() const;

 private:
  class Slot;
  const int limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_use_ = 0;
  int peak_ = 0;
};

}  // namespace stash::backend
