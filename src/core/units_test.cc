#include "stash/core/units.h"

#include <gtest/gtest.h>

namespace stash {
namespace {

TEST(FormatBytesTest, PrintsAsResticDoes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(12), "12 B");
  EXPECT_EQ(FormatBytes(1024), "1024 B");  // restic switches units only above 1024
  EXPECT_EQ(FormatBytes(1536), "1.500 KiB");
  EXPECT_EQ(FormatBytes(2628), "2.566 KiB");
  EXPECT_EQ(FormatBytes((1ull << 20) + 1), "1.000 MiB");
  EXPECT_EQ(FormatBytes(3ull << 30), "3.000 GiB");
  EXPECT_EQ(FormatBytes(5ull << 40), "5.000 TiB");
  EXPECT_EQ(FormatBytes(3000ull << 40), "3000.000 TiB");
}

}  // namespace
}  // namespace stash
