#include "stash/chunker/polynomial.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::chunker {
namespace {

// Carry-less product: a polynomial that is reducible by construction.
Pol ClMul(Pol a, Pol b) {
  Pol r = 0;
  for (int i = 0; i < 64; ++i) {
    if ((b >> i) & 1) r ^= a << i;
  }
  return r;
}

TEST(PolynomialTest, Degree) {
  EXPECT_EQ(Deg(0), -1);
  EXPECT_EQ(Deg(1), 0);
  EXPECT_EQ(Deg(0x3DA3358B4DC173), 53);
  EXPECT_EQ(Deg(~Pol{0}), 63);
}

TEST(PolynomialTest, KnownIrreducibleAndProducts) {
  // restic/chunker's test polynomial.
  EXPECT_TRUE(Irreducible(0x3DA3358B4DC173));
  EXPECT_TRUE(Irreducible(0b111));   // x^2 + x + 1
  EXPECT_TRUE(Irreducible(0b1011));  // x^3 + x + 1
  EXPECT_FALSE(Irreducible(0b101));  // (x + 1)^2
  EXPECT_FALSE(Irreducible(0b110));  // x (x + 1)
  EXPECT_FALSE(Irreducible(0));
  EXPECT_FALSE(Irreducible(1));
  // x^20 + x^3 + 1 (irreducible) times a degree-33 polynomial: degree 53 but
  // reducible, as a corrupt config might carry.
  EXPECT_TRUE(Irreducible((Pol{1} << 20) | 0b1001));
  EXPECT_FALSE(Irreducible(ClMul((Pol{1} << 20) | 0b1001, (Pol{1} << 33) | 0b1010011)));
  EXPECT_FALSE(Irreducible(ClMul(0x3DA3358B4DC173, 0b11)));
}

// Independent check of the Ben-Or test: the number of irreducible binary
// polynomials of degree n is (1/n) * sum_{d|n} mu(d) 2^(n/d) (OEIS A001037).
TEST(PolynomialTest, CountsIrreduciblesOfSmallDegree) {
  const int want[] = {0, 2, 1, 2, 3, 6, 9, 18, 30, 56, 99, 186, 335};
  for (int n = 1; n <= 12; ++n) {
    int count = 0;
    for (Pol p = Pol{1} << n; p < (Pol{2} << n); ++p) count += Irreducible(p);
    EXPECT_EQ(count, want[n]) << "degree " << n;
  }
}

TEST(PolynomialTest, DeriveGivesRestrictedIrreducibleDegree53) {
  SeededRandom rnd(99);
  Pol prev = 0;
  for (int i = 0; i < 20; ++i) {
    const Pol p = DerivePolynomial(rnd);
    EXPECT_EQ(Deg(p), 53);
    EXPECT_EQ(p & 1, 1u);
    EXPECT_TRUE(Irreducible(p));
    EXPECT_OK(CheckChunkerPolynomial(p));
    EXPECT_NE(p, prev);
    prev = p;
  }
  SeededRandom a(5), b(5);
  EXPECT_EQ(DerivePolynomial(a), DerivePolynomial(b));
}

TEST(PolynomialTest, HexLikeGo) {
  EXPECT_EQ(PolToHex(0x3DA3358B4DC173), "3da3358b4dc173");
  EXPECT_EQ(PolToHex(0), "0");
  EXPECT_EQ(PolToHex(0x10), "10");
  EXPECT_EQ(*PolFromHex("3da3358b4dc173"), Pol{0x3DA3358B4DC173});
  EXPECT_EQ(*PolFromHex("3DA3358B4DC173"), Pol{0x3DA3358B4DC173});
  EXPECT_EQ(*PolFromHex("ffffffffffffffff"), ~Pol{0});
  for (const char* bad : {"", "0x12", "12g", "10000000000000000", " 12"}) {
    auto r = PolFromHex(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
  }
}

TEST(PolynomialTest, CheckRejectsWhatTheChunkerCannotUse) {
  EXPECT_EQ(CheckChunkerPolynomial(ClMul(0x3DA3358B4DC173, 0b11)).code(), Code::kInvalid);
  // Irreducible but too large a degree for the chunker (restic panics).
  SeededRandom rnd(1);
  Pol big;
  do {
    big = rnd.Next64() | (Pol{1} << 60) | 1;
    big &= (Pol{1} << 61) - 1;
  } while (!Irreducible(big));
  const Status s = CheckChunkerPolynomial(big);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("degree 60"), std::string::npos) << s;
}

}  // namespace
}  // namespace stash::chunker
