// GoogleTest assertions for Status and Result<T>: EXPECT_OK / ASSERT_OK print
// the error (code and message) when they fail, where EXPECT_TRUE(x.ok())
// would only say "false". Both accept a streamed message like any gtest
// assertion: `ASSERT_OK(repo.Open()) << "opening " << path;`.
//
// For tests only (include it from *_test.cc files, never from a library).
// Thread-safety: as GoogleTest's own assertions.
#pragma once

#include <gtest/gtest.h>

#include "stash/core/result.h"
#include "stash/core/status.h"

namespace stash::testing {

template <typename T>
::testing::AssertionResult IsOk(const char* expr, const T& value) {
  const Status& s = ::stash::internal::GetStatus(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is not OK: " << s.ToString();
}

}  // namespace stash::testing

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::stash::testing::IsOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::stash::testing::IsOk, expr)
