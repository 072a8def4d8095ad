#include "stash/core/id.h"

#include <gtest/gtest.h>

#include <unordered_set>

#include "stash/core/testing.h"

namespace stash {
namespace {

TEST(IdTest, HexRoundTrip) {
  const std::string hex = "07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541";
  auto id = Id::FromHex(hex);
  ASSERT_OK(id);
  EXPECT_EQ(id->Hex(), hex);
  EXPECT_EQ(id->ShortHex(), "07854d2f");
  EXPECT_FALSE(id->IsZero());
  EXPECT_TRUE(Id().IsZero());
  auto upper = Id::FromHex("07854D2FEF297A06BA81685E660C332DE36D5D18D546927D30DAAD6D7FDA1541");
  ASSERT_OK(upper);
  EXPECT_EQ(*upper, *id);
}

TEST(IdTest, RejectsBadInput) {
  EXPECT_EQ(Id::FromHex("abc").status().code(), Code::kInvalid);
  EXPECT_EQ(Id::FromHex(std::string(64, 'g')).status().code(), Code::kInvalid);
}

TEST(IdTest, OrderingAndHashing) {
  Id a, b;
  b.data()[0] = 1;
  EXPECT_LT(a, b);
  std::unordered_set<Id> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace stash
