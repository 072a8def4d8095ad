// Status: the one error type of the project.
//
// Every fallible function returns a [[nodiscard]] Status or Result<T> (see
// result.h); no exception crosses a layer boundary. A Status carries a code
// modelled on Kubernetes' Status reasons (so the API server can map it to an
// HTTP answer directly), a human message that says what failed, on which
// object and what the user can do, and a retryable bit that the retry
// decorator, the controller's requeue and the CLI's exit code all read.
//
// Thread-safety: a Status is a value type; distinct objects may be used from
// different threads freely.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace stash {

enum class Code : int {
  kOk = 0,
  kInvalid,             // bad input from the caller (HTTP 400/422)
  kNotFound,            // the named object does not exist (404)
  kAlreadyExists,       // create of an object that exists (409)
  kConflict,            // stale version, lock held by another (409)
  kUnauthorized,        // missing or wrong credentials, wrong password (401)
  kForbidden,           // credentials fine but not allowed (403)
  kFailedPrecondition,  // system state must be fixed first (412)
  kUnavailable,         // transient: server down, connection reset (503)
  kTimeout,             // deadline exceeded (504)
  kDataLoss,            // corruption detected: MAC, hash or size mismatch
  kUnsupported,         // valid but not implemented or not supported (415/501)
  kResourceExhausted,   // quota, disk full (507/429)
  kCancelled,           // the operation was cancelled by the caller
  kIncomplete,          // finished, but some inputs could not be processed
  kInternal,            // a bug: an invariant did not hold (500)
};

// Returns the canonical name of a code, e.g. "NotFound".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  // OK status.
  Status() = default;
  // An error; `retryable` defaults to true for kUnavailable and kTimeout.
  Status(Code code, std::string message);
  Status(Code code, std::string message, bool retryable);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  const std::string& message() const;
  bool retryable() const { return rep_ && rep_->retryable; }

  // Prefixes the message with context ("loading index 3f2a…: <message>") and
  // returns *this. No-op on OK.
  Status& Prepend(std::string_view context) &;
  Status&& Prepend(std::string_view context) &&;
  Status& SetRetryable(bool retryable) &;
  Status&& SetRetryable(bool retryable) &&;

  // "NotFound: <message>" or "OK".
  std::string ToString() const;

  // Explicitly discards an error the caller has decided not to act on.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    Code code;
    std::string message;
    bool retryable;
  };
  // Shared so copies are cheap; a Rep is never mutated once shared (Prepend
  // copies on write).
  std::shared_ptr<const Rep> rep_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

// Named constructors.
Status InvalidError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status ConflictError(std::string message);
Status UnauthorizedError(std::string message);
Status ForbiddenError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status TimeoutError(std::string message);
Status DataLossError(std::string message);
Status UnsupportedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status CancelledError(std::string message);
Status IncompleteError(std::string message);
Status InternalError(std::string message);

// Builds a Status from errno after a failed system call:
// "<what>: <strerror>" with a code chosen from errno (ENOENT → kNotFound,
// EACCES → kForbidden, ENOSPC → kResourceExhausted, EINTR/EAGAIN → kUnavailable…).
Status ErrnoError(int err, std::string_view what);

}  // namespace stash
