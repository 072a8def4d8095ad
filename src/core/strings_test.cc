#include "stash/core/strings.h"

#include <gtest/gtest.h>

namespace stash {
namespace {

TEST(AsciiLowerTest, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-Length"), "content-length");
  EXPECT_EQ(AsciiLower("StatefulSet 0-9_"), "statefulset 0-9_");
  // UTF-8 bytes (here "Ä", "É") are left as they are, unlike a locale's tolower.
  EXPECT_EQ(AsciiLower("\xC3\x84Z\xC3\x89"), "\xC3\x84z\xC3\x89");
  EXPECT_EQ(AsciiLower(""), "");
}

}  // namespace
}  // namespace stash
