#include "stash/engine/dry_run.h"

#include <utility>

namespace stash::engine {

namespace {

class DryRunBackend final : public backend::Backend {
 public:
  explicit DryRunBackend(backend::BackendPtr inner) : inner_(std::move(inner)) {}

  std::string Location() const override { return inner_->Location(); }
  int Connections() const override { return inner_->Connections(); }
  Status Create() override { return Status::Ok(); }
  Status Save(const backend::Handle&, std::span<const uint8_t>) override { return Status::Ok(); }
  Status Load(const backend::Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override {
    return inner_->Load(h, offset, length, out);
  }
  Result<backend::FileInfo> Stat(const backend::Handle& h) override { return inner_->Stat(h); }
  Status List(backend::FileType t,
              const std::function<Status(const backend::FileInfo&)>& fn) override {
    return inner_->List(t, fn);
  }
  Status Remove(const backend::Handle&) override { return Status::Ok(); }

 private:
  backend::BackendPtr inner_;
};

}  // namespace

backend::BackendPtr NewDryRunBackend(backend::BackendPtr inner) {
  return std::make_unique<DryRunBackend>(std::move(inner));
}

}  // namespace stash::engine
