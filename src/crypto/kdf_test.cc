#include "stash/crypto/kdf.h"

#include <gtest/gtest.h>

#include <string>

#include "stash/core/id.h"
#include "stash/core/testing.h"

namespace stash::crypto {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Concat(const Key& k) {
  return HexEncode(k.encrypt.data(), 32) + HexEncode(k.mac_k.data(), 16) +
         HexEncode(k.mac_r.data(), 16);
}

// RFC 7914 section 12; the 64-byte output is split encrypt || mac_k || mac_r.
TEST(KdfTest, Rfc7914Vectors) {
  auto k1 = DeriveUserKey("", Bytes(""), {16, 1, 1});
  ASSERT_OK(k1);
  EXPECT_EQ(Concat(*k1),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  auto k2 = DeriveUserKey("password", Bytes("NaCl"), {1024, 8, 16});
  ASSERT_OK(k2);
  EXPECT_EQ(Concat(*k2),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  EXPECT_EQ(HexEncode(k2->encrypt.data(), 4), "fdbabe1c");
  EXPECT_EQ(HexEncode(k2->mac_k.data(), 4), "2eaf30d9");
  EXPECT_EQ(HexEncode(k2->mac_r.data(), 4), "c727afb9");
}

TEST(KdfTest, RejectsInvalidParamsWithClearMessage) {
  for (ScryptParams bad : {ScryptParams{0, 8, 1}, ScryptParams{1, 8, 1}, ScryptParams{1000, 8, 1},
                           ScryptParams{1024, 0, 1}, ScryptParams{1024, 8, 0},
                           ScryptParams{uint64_t{1} << 40, 8, 1}, ScryptParams{16, 1, 1u << 23}}) {
    auto k = DeriveUserKey("pw", Bytes("salt"), bad);
    ASSERT_FALSE(k.ok()) << bad.n << " " << bad.r << " " << bad.p;
    EXPECT_EQ(k.status().code(), Code::kInvalid);
    EXPECT_NE(k.status().message().find("N=" + std::to_string(bad.n)), std::string::npos)
        << k.status();
  }
}

TEST(KdfTest, MemoryCapIsTwoGiB) {
  EXPECT_OK(ValidateScryptParams({uint64_t{1} << 20, 8, 1}));        // 1 GiB
  const Status s = ValidateScryptParams({uint64_t{1} << 21, 8, 1});  // just over 2 GiB
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("2048 MiB"), std::string::npos) << s;
}

TEST(KdfTest, WorkCapRefusesHugeP) {
  // A small N with a huge p needs little memory but days of CPU.
  const Status s = ValidateScryptParams({uint64_t{1} << 15, 8, 1 << 20});
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("p=1048576"), std::string::npos) << s;
  EXPECT_NE(s.message().find("2^26"), std::string::npos) << s;
  EXPECT_OK(ValidateScryptParams({uint64_t{1} << 15, 8, 256}));  // the cap itself
}

TEST(KdfTest, AcceptsOldResticKeysBeyondRfc7914sErratum) {
  // restic 0.8 calibrated keys with N=2^18, r=1 (restic issue 1697).
  auto k = DeriveUserKey("pw", Bytes("salt"), {uint64_t{1} << 18, 1, 1});
  EXPECT_OK(k);
}

TEST(KdfTest, DefaultsAreRestics) {
  EXPECT_EQ(DefaultScryptParams(), (ScryptParams{32768, 8, 1}));
  EXPECT_OK(ValidateScryptParams(DefaultScryptParams()));
  // restic 0.14 calibrates p upwards; such keys must be accepted.
  EXPECT_OK(ValidateScryptParams({32768, 8, 6}));
}

TEST(KdfTest, PasswordAndSaltMatter) {
  auto a = DeriveUserKey("pw", Bytes("salt"), {1024, 1, 1});
  auto b = DeriveUserKey("pX", Bytes("salt"), {1024, 1, 1});
  auto c = DeriveUserKey("pw", Bytes("salX"), {1024, 1, 1});
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_TRUE(a->Valid());
}

}  // namespace
}  // namespace stash::crypto
