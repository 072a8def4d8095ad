#include "stash/core/random.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace stash {
namespace {

TEST(RandomTest, SeededIsReproducible) {
  SeededRandom a(42), b(42), c(43);
  EXPECT_EQ(a.Next64(), b.Next64());
  EXPECT_NE(a.Next64(), c.Next64());
}

TEST(RandomTest, SystemRandomFillsEveryByte) {
  SystemRandom r;
  std::array<uint8_t, 4096> buf{};
  r.Fill(buf);
  std::set<uint8_t> seen(buf.begin(), buf.end());
  EXPECT_GT(seen.size(), 200u);
}

TEST(RandomTest, UniformStaysInBounds) {
  SeededRandom r(1);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.Uniform(7), 7u);
}

}  // namespace
}  // namespace stash
