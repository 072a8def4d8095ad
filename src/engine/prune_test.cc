#include "stash/engine/prune.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::engine {
namespace {

TEST(PruneOptionsTest, MaxUnusedAcceptsPercentSizeAndUnlimitedAsRestic) {
  auto p = ParseMaxUnused("5%");
  ASSERT_OK(p);
  // 5% of the total after pruning: unused <= 5/95 of the used bytes.
  EXPECT_EQ(p->Limit(95'000), 5'000u);
  EXPECT_EQ(ParseMaxUnused(" 10M ")->Limit(1), 10u << 20);
  EXPECT_EQ(ParseMaxUnused("unlimited")->Limit(1), UINT64_MAX);
  EXPECT_EQ(ParseMaxUnused("100%").status().message(),
            "percentage for --max-unused must be below 100%");
  EXPECT_FALSE(ParseMaxUnused("-1%").ok());
  EXPECT_FALSE(ParseMaxUnused("lots").ok());
  EXPECT_FALSE(ParseMaxUnused("").ok());
}

TEST(PruneOptionsTest, SizesAndByteFormattingAsRestic) {
  EXPECT_EQ(*ParseSize("2k"), 2048u);
  EXPECT_EQ(*ParseSize("3G"), 3ull << 30);
  EXPECT_EQ(*ParseSize("17"), 17u);
  EXPECT_FALSE(ParseSize("1.5M").ok());
  // --exclude-larger-than's forms (restic's parseSizeStr).
  EXPECT_EQ(*ParseSize("10b"), 10u);
  EXPECT_EQ(*ParseSize("2M"), 2u << 20);
  EXPECT_EQ(*ParseSize("1t"), 1ull << 40);
  EXPECT_FALSE(ParseSize("k").ok());
  EXPECT_FALSE(ParseSize("1.5m").ok());
  EXPECT_FALSE(ParseSize("").ok());
}

TEST(PruneStatsTest, TextNamesWhatIsRemovedAndWhatRemains) {
  PruneStats s;
  s.blobs.used = 10;
  s.size.used = 1000;
  s.blobs.unused = 4;
  s.size.unused = 400;
  s.blobs.remove = 3;
  s.size.remove = 300;
  s.packs.remove = 1;
  const std::string text = PruneStatsText(s, 1);
  EXPECT_NE(text.find("to delete:             3 blobs / 300 B\n"), std::string::npos) << text;
  EXPECT_NE(text.find("remaining:            11 blobs / 1.074 KiB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("unused size after prune: 100 B (9.09% of remaining size)"),
            std::string::npos)
      << text;
  EXPECT_EQ(s.ReclaimedBytes(), 300u);
}

}  // namespace
}  // namespace stash::engine
