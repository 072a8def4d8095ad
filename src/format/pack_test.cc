#include "stash/format/pack.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::format {
namespace {

Id IdOf(uint8_t b) {
  Id id;
  for (size_t i = 0; i < Id::kSize; ++i) id.data()[i] = static_cast<uint8_t>(b + i);
  return id;
}

TEST(PackTest, EntryLayoutsAre37And41Bytes) {
  const std::vector<PackEntry> entries = {
      {BlobType::kData, 0x01020304, 0, IdOf(0x10)},
      {BlobType::kTree, 100, 0, IdOf(0x20)},
      {BlobType::kData, 0x40, 0x0a0b0c0d, IdOf(0x30)},
      {BlobType::kTree, 50, 200, IdOf(0x40)},
  };
  const std::vector<uint8_t> header = EncodePackHeader(entries);
  ASSERT_EQ(header.size(), 37u + 37u + 41u + 41u);
  EXPECT_EQ(header[0], 0);  // data, little-endian length, then the id
  EXPECT_EQ(header[1], 0x04);
  EXPECT_EQ(header[4], 0x01);
  EXPECT_EQ(header[5], 0x10);
  EXPECT_EQ(header[37], 1);     // tree
  EXPECT_EQ(header[74], 2);     // compressed data
  EXPECT_EQ(header[79], 0x0d);  // uncompressed length follows the sealed one
  EXPECT_EQ(header[83], 0x30);
  EXPECT_EQ(header[115], 3);  // compressed tree
  auto back = DecodePackHeader(header);
  ASSERT_OK(back);
  EXPECT_EQ(*back, entries);
  EXPECT_EQ(SealedPackHeaderSize(entries), 156u + 32u);
  EXPECT_EQ(PackSize(entries), 0x01020304ull + 100 + 0x40 + 50 + 156 + 32 + 4);
}

TEST(PackTest, DecodeRejectsCorruptHeaders) {
  std::vector<uint8_t> header = EncodePackHeader({{BlobType::kData, 64, 0, IdOf(1)}});
  std::vector<uint8_t> truncated(header.begin(), header.end() - 1);
  EXPECT_EQ(DecodePackHeader(truncated).status().code(), Code::kDataLoss);
  std::vector<uint8_t> bad_type = header;
  bad_type[0] = 4;
  EXPECT_EQ(DecodePackHeader(bad_type).status().code(), Code::kDataLoss);
  std::vector<uint8_t> short_blob = EncodePackHeader({{BlobType::kData, 31, 0, IdOf(1)}});
  EXPECT_EQ(DecodePackHeader(short_blob).status().code(), Code::kDataLoss);
  EXPECT_OK(DecodePackHeader({}));
}

// Found by fuzz_format_pack_header: a compressed entry (type 2/3) whose
// uncompressed length is 0 decoded as an uncompressed blob, so the header no
// longer described what the pack holds (and re-encoded to other bytes).
TEST(PackTest, DecodeRejectsCompressedEntryOfLengthZero) {
  std::vector<uint8_t> header = EncodePackHeader({{BlobType::kData, 64, 9, IdOf(1)}});
  ASSERT_EQ(header.size(), kCompressedPackEntrySize);
  for (size_t i = 5; i < 9; ++i) header[i] = 0;
  auto r = DecodePackHeader(header);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_NE(r.status().message().find("uncompressed length 0"), std::string::npos);
}

TEST(PackTest, TrailerBounds) {
  std::vector<uint8_t> tail = {9, 9};
  AppendPackTrailer(&tail, 69);
  EXPECT_EQ(tail.size(), 6u);
  EXPECT_EQ(*DecodePackTrailer(tail, 1000), 69u);
  EXPECT_EQ(DecodePackTrailer(tail, 72).status().code(), Code::kDataLoss);  // beyond the file
  std::vector<uint8_t> tiny;
  AppendPackTrailer(&tiny, 31);
  EXPECT_EQ(DecodePackTrailer(tiny, 1000).status().code(), Code::kDataLoss);
  std::vector<uint8_t> huge;
  AppendPackTrailer(&huge, 16 * 1024 * 1024 + 1);
  EXPECT_EQ(DecodePackTrailer(huge, 1ull << 30).status().code(), Code::kDataLoss);
  EXPECT_EQ(DecodePackTrailer(std::vector<uint8_t>{1, 2}, 1000).status().code(), Code::kDataLoss);
  EXPECT_EQ(kEagerTailSize, 15u * 41 + 36);
}

}  // namespace
}  // namespace stash::format
