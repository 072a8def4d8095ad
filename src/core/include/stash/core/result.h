// Result<T>: a value or an error Status, and the propagation macros.
//
//   Result<Config> LoadConfig(...);
//   STASH_ASSIGN_OR_RETURN(Config cfg, LoadConfig(...));
//   STASH_RETURN_IF_ERROR(repo.Save(...));
//
// Thread-safety: a value type, as Status.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

#include "stash/core/status.h"

namespace stash {

template <typename T>
class [[nodiscard]] Result {
 public:
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "Result<Status> is not allowed");

  // Implicit from a value or from a (non-OK) Status, so `return value;` and
  // `return NotFoundError(...)` both work.
  Result(const T& value) : value_(value) {}             // NOLINT
  Result(T&& value) : value_(std::move(value)) {}       // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = InternalError("Result constructed from OK status without a value");
  }
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, T> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Status> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Result<T>>>>
  Result(U&& value) : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  // On a temporary Result these return by value: a reference into a Result
  // that dies at the end of the full expression (`STASH_RETURN_IF_ERROR(
  // f().status())`, `for (auto& x : f().value())`) would dangle.
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T value() && {
    assert(ok());
    return std::move(*value_);
  }
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

namespace internal {
inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace stash

#define STASH_CONCAT_INNER_(a, b) a##b
#define STASH_CONCAT_(a, b) STASH_CONCAT_INNER_(a, b)

// Returns the Status of `expr` (a Status or Result) from the enclosing
// function when it is not OK.
#define STASH_RETURN_IF_ERROR(expr)                                        \
  do {                                                                     \
    if (auto&& stash_status_ = (expr); !stash_status_.ok()) {              \
      return ::stash::Status(::stash::internal::GetStatus(stash_status_)); \
    }                                                                      \
  } while (0)

// Like STASH_RETURN_IF_ERROR, and prepends `context` to the message.
#define STASH_RETURN_IF_ERROR_CTX(expr, context)                                            \
  do {                                                                                      \
    if (auto&& stash_status_ = (expr); !stash_status_.ok()) {                               \
      return ::stash::Status(::stash::internal::GetStatus(stash_status_)).Prepend(context); \
    }                                                                                       \
  } while (0)

#define STASH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr)  \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return ::stash::Status(tmp.status()); \
  lhs = std::move(tmp).value()

// Evaluates `rexpr` (a Result<T>); on error returns its Status, otherwise
// assigns the value to `lhs` (which may be a declaration).
#define STASH_ASSIGN_OR_RETURN(lhs, rexpr) \
  STASH_ASSIGN_OR_RETURN_IMPL_(STASH_CONCAT_(stash_result_, __LINE__), lhs, rexpr)
