#include "stash/backend/fault.h"

#include <bit>

namespace stash::backend {
namespace {
std::string_view OpName(Op op) {
  switch (op) {
    case kOpCreate:
      return "create";
    case kOpSave:
      return "save";
    case kOpLoad:
      return "load";
    case kOpStat:
      return "stat";
    case kOpList:
      return "list";
    case kOpRemove:
      return "remove";
    default:
      return "call";
  }
}
}  // namespace

FaultInjectingBackend::FaultInjectingBackend(BackendPtr inner)
    : ForwardingBackend(std::move(inner)) {}

void FaultInjectingBackend::FailNext(int n, Status status, unsigned ops) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
  fail_next_status_ = std::move(status);
  fail_next_ops_ = ops;
}

void FaultInjectingBackend::FailFraction(double fraction, Status status, Random& random,
                                         unsigned ops) {
  std::lock_guard lock(mu_);
  fraction_ = fraction;
  fraction_status_ = std::move(status);
  fraction_ops_ = ops;
  random_ = &random;
}

void FaultInjectingBackend::LoseResponses(int n, unsigned ops) {
  std::lock_guard lock(mu_);
  lose_next_ = n;
  lose_ops_ = ops;
}

void FaultInjectingBackend::Heal() {
  std::lock_guard lock(mu_);
  fail_next_ = 0;
  fraction_ = 0;
  lose_next_ = 0;
}

int FaultInjectingBackend::calls(Op op) const { return calls_[std::countr_zero(unsigned(op))]; }

Status FaultInjectingBackend::Before(Op op, bool* lose_response) {
  ++calls_[std::countr_zero(unsigned(op))];
  std::lock_guard lock(mu_);
  *lose_response = false;
  if (fail_next_ > 0 && (fail_next_ops_ & op)) {
    --fail_next_;
    return fail_next_status_;
  }
  if (fraction_ > 0 && (fraction_ops_ & op) &&
      static_cast<double>(random_->Uniform(1u << 20)) < fraction_ * (1u << 20)) {
    return fraction_status_;
  }
  if (lose_next_ > 0 && (lose_ops_ & op)) {
    --lose_next_;
    *lose_response = true;
  }
  return Status::Ok();
}

Status FaultInjectingBackend::Lost(Op op) const {
  return UnavailableError(Location() + ": " + std::string(OpName(op)) +
                          ": connection reset before the answer arrived (injected)");
}

#define STASH_FAULT_PRELUDE_(op) \
  bool lose = false;             \
  if (Status s = Before(op, &lose); !s.ok()) return s

Status FaultInjectingBackend::Create() {
  STASH_FAULT_PRELUDE_(kOpCreate);
  Status s = inner_->Create();
  return lose && s.ok() ? Lost(kOpCreate) : s;
}

Status FaultInjectingBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  STASH_FAULT_PRELUDE_(kOpSave);
  Status s = inner_->Save(h, data);
  return lose && s.ok() ? Lost(kOpSave) : s;
}

Status FaultInjectingBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                                   std::vector<uint8_t>* out) {
  STASH_FAULT_PRELUDE_(kOpLoad);
  Status s = inner_->Load(h, offset, length, out);
  if (lose && s.ok()) {
    // A dropped download leaves a partial buffer behind.
    out->resize(out->size() / 2);
    return Lost(kOpLoad);
  }
  return s;
}

Result<FileInfo> FaultInjectingBackend::Stat(const Handle& h) {
  STASH_FAULT_PRELUDE_(kOpStat);
  auto r = inner_->Stat(h);
  if (lose && r.ok()) return Lost(kOpStat);
  return r;
}

Status FaultInjectingBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  STASH_FAULT_PRELUDE_(kOpList);
  if (!lose) return inner_->List(t, fn);
  // Deliver half of the listing, then drop, as a connection lost mid-page.
  std::vector<FileInfo> all;
  STASH_RETURN_IF_ERROR(inner_->List(t, [&](const FileInfo& fi) {
    all.push_back(fi);
    return Status::Ok();
  }));
  for (size_t i = 0; i < all.size() / 2; ++i) STASH_RETURN_IF_ERROR(fn(all[i]));
  return Lost(kOpList);
}

Status FaultInjectingBackend::Remove(const Handle& h) {
  STASH_FAULT_PRELUDE_(kOpRemove);
  Status s = inner_->Remove(h);
  return lose && s.ok() ? Lost(kOpRemove) : s;
}

}  // namespace stash::backend
