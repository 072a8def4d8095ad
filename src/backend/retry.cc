#include "stash/backend/retry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace stash::backend {

RetryBackend::RetryBackend(BackendPtr inner, Clock& clock, Random& random, RetryOptions options)
    : ForwardingBackend(std::move(inner)), clock_(clock), random_(random), options_(options) {}

Duration RetryBackend::Backoff(int attempt) {
  Duration d = options_.initial_delay;
  for (int i = 1; i < attempt && d < options_.max_delay; ++i) d *= 2;
  d = std::min(d, options_.max_delay);
  // Half fixed, half random: spreads out clients that failed together.
  auto half = static_cast<uint64_t>(d.count() / 2);
  return Duration(static_cast<Duration::rep>(half + (half > 0 ? random_.Uniform(half + 1) : 0)));
}

Status RetryBackend::Run(const std::string& what, const std::function<Status(int)>& attempt) {
  const SystemTime start = clock_.Now();
  for (int n = 1;; ++n) {
    Status s = attempt(n);
    if (s.ok() || !s.retryable()) return s;
    const Duration elapsed = clock_.Now() - start;
    const Duration delay = Backoff(n);
    if (n >= options_.max_attempts || elapsed + delay > options_.max_elapsed) {
      std::string msg = s.message();
      const std::string loc = Location();
      if (msg.find(loc) == std::string::npos) msg = loc + ": " + what + ": " + msg;
      auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() / 1000.0;
      return Status(s.code(),
                    msg + " (gave up after " + std::to_string(n) + " attempts in " +
                        fmt::format("{:.1f}", secs) + "s; the store stays unavailable)",
                    true);
    }
    spdlog::warn("{}: {} failed (attempt {}/{}), retrying in {} ms: {}", Location(), what, n,
                 options_.max_attempts,
                 std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(), s.message());
    if (!clock_.SleepFor(delay)) return CancelledError(Location() + ": " + what + ": cancelled");
  }
}

Status RetryBackend::Create() {
  return Run("creating the repository", [&](int) { return inner_->Create(); });
}

Status RetryBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  return Run("saving " + h.ToString(), [&](int n) {
    Status s = inner_->Save(h, data);
    if (n > 1 && s.code() == Code::kAlreadyExists) {
      // An earlier attempt may have landed before its answer was lost. Names
      // are content hashes, so the same size means the same file — except
      // the config, whose name says nothing: a racing init's config has the
      // same size, so only the same bytes mean it is ours.
      if (h.type == FileType::kConfig) {
        std::vector<uint8_t> there;
        if (inner_->Load(h, 0, 0, &there).ok() &&
            std::equal(there.begin(), there.end(), data.begin(), data.end())) {
          return Status::Ok();
        }
        return s;
      }
      auto st = inner_->Stat(h);
      if (st.ok() && st->size == data.size()) return Status::Ok();
    }
    return s;
  });
}

Status RetryBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                          std::vector<uint8_t>* out) {
  return Run("loading " + h.ToString(), [&](int) { return inner_->Load(h, offset, length, out); });
}

Result<std::span<uint8_t>> RetryBackend::LoadUncached(const Handle& h, uint64_t offset,
                                                      uint64_t length, std::vector<uint8_t>* buf) {
  std::span<uint8_t> where;
  Status s = Run("loading " + h.ToString(), [&](int) {
    auto r = inner_->LoadUncached(h, offset, length, buf);
    if (r.ok()) where = *r;
    return r.ok() ? Status::Ok() : r.status();
  });
  if (!s.ok()) return s;
  return where;
}

Result<FileInfo> RetryBackend::Stat(const Handle& h) {
  FileInfo info;
  Status s = Run("stat " + h.ToString(), [&](int) {
    auto r = inner_->Stat(h);
    if (r.ok()) info = *r;
    return r.ok() ? Status::Ok() : r.status();
  });
  if (!s.ok()) return s;
  return info;
}

Status RetryBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  std::set<std::string> seen;
  Status callback_error;
  Status s = Run("listing " + std::string(FileTypeDir(t)), [&](int) {
    return inner_->List(t, [&](const FileInfo& fi) {
      if (!seen.insert(fi.name).second) return Status::Ok();
      callback_error = fn(fi);
      // The caller's own error must not be retried: mark it permanent and
      // return the original below.
      return callback_error.ok() ? callback_error : Status(callback_error).SetRetryable(false);
    });
  });
  return callback_error.ok() ? s : callback_error;
}

Status RetryBackend::Remove(const Handle& h) {
  return Run("removing " + h.ToString(), [&](int n) {
    Status s = inner_->Remove(h);
    // Gone after a lost answer: the earlier attempt did it.
    if (n > 1 && s.code() == Code::kNotFound) return Status::Ok();
    return s;
  });
}

}  // namespace stash::backend
