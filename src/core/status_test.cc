#include "stash/core/status.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "stash/core/result.h"
#include "stash/core/testing.h"

namespace stash {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_OK(s);
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_FALSE(s.retryable());
}

TEST(StatusTest, ErrorCarriesCodeMessageAndRetryBit) {
  Status s = NotFoundError("repository /x does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: repository /x does not exist");
  EXPECT_FALSE(s.retryable());
  EXPECT_TRUE(UnavailableError("503").retryable());
  EXPECT_TRUE(TimeoutError("slow").retryable());
  EXPECT_FALSE(UnavailableError("x").SetRetryable(false).retryable());
}

TEST(StatusTest, PrependAddsContextWithoutChangingTheOriginal) {
  Status base = DataLossError("MAC mismatch");
  Status copy = base;
  copy.Prepend("pack 3f2a");
  EXPECT_EQ(copy.message(), "pack 3f2a: MAC mismatch");
  EXPECT_EQ(base.message(), "MAC mismatch");
  Status ok;
  ok.Prepend("ignored");
  EXPECT_OK(ok);
}

TEST(StatusTest, ErrnoMapsToCodes) {
  EXPECT_EQ(ErrnoError(ENOENT, "open a").code(), Code::kNotFound);
  EXPECT_EQ(ErrnoError(EACCES, "open a").code(), Code::kForbidden);
  EXPECT_EQ(ErrnoError(ENOSPC, "write").code(), Code::kResourceExhausted);
  EXPECT_TRUE(ErrnoError(ECONNRESET, "recv").retryable());
  EXPECT_NE(ErrnoError(ENOENT, "open a").message().find("open a: "), std::string::npos);
}

Result<int> Half(int x) {
  if (x % 2) return InvalidError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  STASH_ASSIGN_OR_RETURN(int h, Half(x));
  STASH_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  STASH_RETURN_IF_ERROR_CTX(Half(x), "checking " + std::to_string(x));
  return Status::Ok();
}

TEST(ResultTest, ValueAndErrorPropagate) {
  auto q = Quarter(12);
  ASSERT_OK(q);
  EXPECT_EQ(*q, 3);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd: 3");
  EXPECT_EQ(CheckEven(5).message(), "checking 5: odd: 5");
  EXPECT_OK(CheckEven(4));
}

TEST(ResultTest, OkStatusWithoutValueIsAnInternalError) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_OK(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace stash
