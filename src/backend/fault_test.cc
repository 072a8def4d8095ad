#include "stash/backend/fault.h"

#include <gtest/gtest.h>

#include "stash/backend/memory.h"
#include "stash/core/testing.h"

namespace stash::backend {
namespace {

Handle H(char c) { return Handle{FileType::kPack, std::string(64, c)}; }

TEST(FaultInjectingBackend, FailsTheNextCallsThenPassesThrough) {
  FaultInjectingBackend f(std::make_unique<InMemoryBackend>());
  f.FailNext(2, UnavailableError("HTTP 500"), kOpSave);
  std::vector<uint8_t> d{1, 2, 3};
  EXPECT_EQ(f.Save(H('a'), d).code(), Code::kUnavailable);
  EXPECT_TRUE(f.Stat(H('a')).status().code() == Code::kNotFound);  // not a save: unaffected
  EXPECT_EQ(f.Save(H('a'), d).code(), Code::kUnavailable);
  EXPECT_OK(f.Save(H('a'), d));
  EXPECT_EQ(f.calls(kOpSave), 3);
}

TEST(FaultInjectingBackend, LostResponseStillPerformsTheCall) {
  FaultInjectingBackend f(std::make_unique<InMemoryBackend>());
  f.LoseResponses(1, kOpSave);
  Status s = f.Save(H('b'), std::vector<uint8_t>{1});
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_OK(f.inner().Stat(H('b')));
}

TEST(FaultInjectingBackend, FractionFailsRoughlyThatShare) {
  FaultInjectingBackend f(std::make_unique<InMemoryBackend>());
  SeededRandom r(1);
  f.FailFraction(0.3, UnavailableError("reset"), r, kOpStat);
  int failed = 0;
  for (int i = 0; i < 1000; ++i) failed += f.Stat(H('c')).status().code() == Code::kUnavailable;
  EXPECT_GT(failed, 220);
  EXPECT_LT(failed, 380);
  f.Heal();
  EXPECT_EQ(f.Stat(H('c')).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace stash::backend
