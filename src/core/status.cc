#include "stash/core/status.h"

#include <cerrno>
#include <cstring>

namespace stash {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalid:
      return "Invalid";
    case Code::kNotFound:
      return "NotFound";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kConflict:
      return "Conflict";
    case Code::kUnauthorized:
      return "Unauthorized";
    case Code::kForbidden:
      return "Forbidden";
    case Code::kFailedPrecondition:
      return "FailedPrecondition";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kTimeout:
      return "Timeout";
    case Code::kDataLoss:
      return "DataLoss";
    case Code::kUnsupported:
      return "Unsupported";
    case Code::kResourceExhausted:
      return "ResourceExhausted";
    case Code::kCancelled:
      return "Cancelled";
    case Code::kIncomplete:
      return "Incomplete";
    case Code::kInternal:
      return "Internal";
  }
  return "Unknown";
}

namespace {
bool DefaultRetryable(Code code) { return code == Code::kUnavailable || code == Code::kTimeout; }
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}
}  // namespace

Status::Status(Code code, std::string message)
    : Status(code, std::move(message), DefaultRetryable(code)) {}

Status::Status(Code code, std::string message, bool retryable) {
  if (code != Code::kOk) {
    rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), retryable});
  }
}

const std::string& Status::message() const { return rep_ ? rep_->message : EmptyString(); }

Status& Status::Prepend(std::string_view context) & {
  if (rep_ && !context.empty()) {
    std::string msg(context);
    msg += ": ";
    msg += rep_->message;
    rep_ = std::make_shared<const Rep>(Rep{rep_->code, std::move(msg), rep_->retryable});
  }
  return *this;
}
Status&& Status::Prepend(std::string_view context) && { return std::move(Prepend(context)); }

Status& Status::SetRetryable(bool retryable) & {
  if (rep_) rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, retryable});
  return *this;
}
Status&& Status::SetRetryable(bool retryable) && { return std::move(SetRetryable(retryable)); }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(CodeName(code()));
  s += ": ";
  s += message();
  return s;
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

Status InvalidError(std::string m) { return Status(Code::kInvalid, std::move(m)); }
Status NotFoundError(std::string m) { return Status(Code::kNotFound, std::move(m)); }
Status AlreadyExistsError(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
Status ConflictError(std::string m) { return Status(Code::kConflict, std::move(m)); }
Status UnauthorizedError(std::string m) { return Status(Code::kUnauthorized, std::move(m)); }
Status ForbiddenError(std::string m) { return Status(Code::kForbidden, std::move(m)); }
Status FailedPreconditionError(std::string m) {
  return Status(Code::kFailedPrecondition, std::move(m));
}
Status UnavailableError(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
Status TimeoutError(std::string m) { return Status(Code::kTimeout, std::move(m)); }
Status DataLossError(std::string m) { return Status(Code::kDataLoss, std::move(m)); }
Status UnsupportedError(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
Status ResourceExhaustedError(std::string m) {
  return Status(Code::kResourceExhausted, std::move(m));
}
Status CancelledError(std::string m) { return Status(Code::kCancelled, std::move(m)); }
Status IncompleteError(std::string m) { return Status(Code::kIncomplete, std::move(m)); }
Status InternalError(std::string m) { return Status(Code::kInternal, std::move(m)); }

Status ErrnoError(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  Code code = Code::kInternal;
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      code = Code::kNotFound;
      break;
    case EEXIST:
      code = Code::kAlreadyExists;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = Code::kForbidden;
      break;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      code = Code::kResourceExhausted;
      break;
    case EINTR:
    case EAGAIN:
    case ECONNRESET:
    case ECONNREFUSED:
    case EPIPE:
      code = Code::kUnavailable;
      break;
    case ETIMEDOUT:
      code = Code::kTimeout;
      break;
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
      code = Code::kInvalid;
      break;
    case EIO:
      code = Code::kDataLoss;
      break;
    default:
      break;
  }
  return Status(code, std::move(msg));
}

}  // namespace stash
