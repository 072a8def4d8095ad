// ForwardingBackend: a Backend that passes every call on to the one it
// wraps. The decorators (retry, connection limit, rate limit, cache, fault
// injection) derive from it and override only what they change, so a
// property of the store underneath (CreatesAtomically, ListsSavedFilesAtOnce,
// RemoveTemporaryFiles, LoadUncached's direct reads) is never lost by a layer
// that forgot to forward it.
//
// Thread-safety: as the wrapped backend.
#pragma once

#include <utility>

#include "stash/backend/backend.h"

namespace stash::backend {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(BackendPtr inner) : inner_(std::move(inner)) {}

  Backend& inner() { return *inner_; }

  std::string Location() const override { return inner_->Location(); }
  int Connections() const override { return inner_->Connections(); }
  bool ListsSavedFilesAtOnce() const override { return inner_->ListsSavedFilesAtOnce(); }
  bool CreatesAtomically() const override { return inner_->CreatesAtomically(); }
  Status Create() override { return inner_->Create(); }
  Status Save(const Handle& h, std::span<const uint8_t> data) override {
    return inner_->Save(h, data);
  }
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override {
    return inner_->Load(h, offset, length, out);
  }
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override {
    return inner_->LoadUncached(h, offset, length, buf);
  }
  void Prefetch(const Handle& h, uint64_t offset, uint64_t length) override {
    inner_->Prefetch(h, offset, length);
  }
  Result<FileInfo> Stat(const Handle& h) override { return inner_->Stat(h); }
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override {
    return inner_->List(t, fn);
  }
  Status Remove(const Handle& h) override { return inner_->Remove(h); }
  Result<int> RemoveTemporaryFiles() override { return inner_->RemoveTemporaryFiles(); }

 protected:
  BackendPtr inner_;
};

}  // namespace stash::backend
