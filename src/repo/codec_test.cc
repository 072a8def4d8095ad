#include "codec.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::repo {
namespace {

TEST(CodecTest, PackHeaderRoundTripsWithRestic37And41ByteEntries) {
  std::vector<codec::IndexEntry> blobs(2);
  blobs[0].id.data()[0] = 1;
  blobs[0].length = 100;
  blobs[1].id.data()[0] = 2;
  blobs[1].kind = BlobKind::kTree;
  blobs[1].length = 50;
  blobs[1].uncompressed_length = 200;
  std::vector<uint8_t> h = codec::EncodePackHeader(blobs);
  ASSERT_EQ(h.size(), 37u + 41u);
  EXPECT_EQ(h[0], 0);   // data, uncompressed
  EXPECT_EQ(h[37], 3);  // tree, compressed
  auto back = codec::DecodePackHeader(h, "p");
  ASSERT_OK(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].offset, 100u);
  EXPECT_EQ((*back)[1].uncompressed_length, 200u);
  EXPECT_EQ((*back)[1].id, blobs[1].id);
}

TEST(CodecTest, TruncatedPackHeaderIsDataLossNamingThePack) {
  std::vector<uint8_t> h(40, 0);
  auto r = codec::DecodePackHeader(h, "abcd");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_NE(r.status().message().find("abcd"), std::string::npos);
}

// A blob shorter than IV+MAC cannot be sealed (its plaintext length would
// wrap to ~4 GiB), and a compressed entry of plaintext length 0 would read as
// uncompressed: both are corrupt headers, not blobs to load.
TEST(CodecTest, PackHeaderWithImpossibleLengthsIsDataLoss) {
  std::vector<codec::IndexEntry> blobs(1);
  blobs[0].length = 31;
  auto r = codec::DecodePackHeader(codec::EncodePackHeader(blobs), "abcd");
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  blobs[0].length = 64;
  blobs[0].uncompressed_length = 10;
  std::vector<uint8_t> h = codec::EncodePackHeader(blobs);
  ASSERT_EQ(h.size(), 41u);
  for (size_t i = 5; i < 9; ++i) h[i] = 0;
  r = codec::DecodePackHeader(h, "abcd");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_NE(r.status().message().find("abcd"), std::string::npos);
}

TEST(CodecTest, IndexRoundTripsAndOmitsUncompressedLengthWhenRaw) {
  codec::IndexPack p;
  p.pack.data()[5] = 9;
  codec::IndexEntry e;
  e.length = 64;
  p.blobs.push_back(e);
  std::string json = codec::EncodeIndex({p});
  EXPECT_EQ(json.find("uncompressed_length"), std::string::npos);
  EXPECT_EQ(json.back(), '\n');
  std::vector<codec::IndexPack> got;
  ASSERT_OK(codec::DecodeIndex(json, "i", [&](codec::IndexPack&& x) { got.push_back(x); }));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].pack, p.pack);
  EXPECT_EQ(got[0].blobs[0].length, 64u);
}

TEST(CodecTest, KeyFileKeepsGoFieldOrder) {
  codec::KeyFile k;
  k.created = "2026-01-01T00:00:00Z";
  k.username = "u";
  k.hostname = "h";
  k.n = 1024;
  k.r = 8;
  k.p = 1;
  k.salt = {1, 2, 3};
  k.data = {4, 5};
  std::string j = codec::EncodeKeyFile(k);
  EXPECT_EQ(j,
            "{\"created\":\"2026-01-01T00:00:00Z\",\"username\":\"u\",\"hostname\":\"h\","
            "\"kdf\":\"scrypt\",\"N\":1024,\"r\":8,\"p\":1,\"salt\":\"AQID\",\"data\":\"BAU=\"}");
  auto back = codec::DecodeKeyFile(j);
  ASSERT_OK(back);
  EXPECT_EQ(back->data, k.data);
}

}  // namespace
}  // namespace stash::repo
