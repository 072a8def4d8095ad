#include "stash/backend/limit.h"

namespace stash::backend {

class LimitBackend::Slot {
 public:
  explicit Slot(LimitBackend& b) : b_(b) {
    std::unique_lock lock(b_.mu_);
    b_.cv_.wait(lock, [&] { return b_.in_use_ < b_.limit_; });
    ++b_.in_use_;
    b_.peak_ = std::max(b_.peak_, b_.in_use_);
  }
  ~Slot() {
    {
      std::lock_guard lock(b_.mu_);
      --b_.in_use_;
    }
    b_.cv_.notify_one();
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  LimitBackend& b_;
};

LimitBackend::LimitBackend(BackendPtr inner, int max_connections)
    : ForwardingBackend(std::move(inner)),
      limit_(max_connections > 0 ? max_connections : inner_->Connections()) {}

int LimitBackend::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}

Status LimitBackend::Create() {
  Slot s(*this);
  return inner_->Create();
}

Status LimitBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  Slot s(*this);
  return inner_->Save(h, data);
}

Status LimitBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                          std::vector<uint8_t>* out) {
  Slot s(*this);
  return inner_->Load(h, offset, length, out);
}

Result<std::span<uint8_t>> LimitBackend::LoadUncached(const Handle& h, uint64_t offset,
                                                      uint64_t length, std::vector<uint8_t>* buf) {
  Slot s(*this);
  return inner_->LoadUncached(h, offset, length, buf);
}

Result<FileInfo> LimitBackend::Stat(const Handle& h) {
  Slot s(*this);
  return inner_->Stat(h);
}

Status LimitBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  // The callback runs after the slot is released: callers commonly load or
  // remove what they list, which would deadlock a limit of 1.
  std::vector<FileInfo> files;
  {
    Slot s(*this);
    STASH_RETURN_IF_ERROR(inner_->List(t, [&](const FileInfo& fi) {
      files.push_back(fi);
      return Status::Ok();
    }));
  }
  for (const FileInfo& fi : files) STASH_RETURN_IF_ERROR(fn(fi));
  return Status::Ok();
}

Status LimitBackend::Remove(const Handle& h) {
  Slot s(*this);
  return inner_->Remove(h);
}

}  // namespace stash::backend
