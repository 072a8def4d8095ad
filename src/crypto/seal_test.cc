#include "stash/crypto/seal.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mac.h"
#include "stash/core/id.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"

namespace stash::crypto {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  auto s = HexDecode(hex);
  EXPECT_OK(s) << hex;
  return std::vector<uint8_t>(s->begin(), s->end());
}

template <size_t N>
std::array<uint8_t, N> HexArray(std::string_view hex) {
  std::array<uint8_t, N> a{};
  auto v = Hex(hex);
  EXPECT_EQ(v.size(), N);
  std::memcpy(a.data(), v.data(), std::min(N, v.size()));
  return a;
}

// --- An independent, slow Poly1305 on little-endian base-2^32 big numbers,
// written from the definition: h = sum (m_i + 2^(8*len_i)) r^(q-i+1) mod
// 2^130-5, tag = (h + s) mod 2^128. It cross-checks OpenSSL's vectorised code.
using Big = std::vector<uint64_t>;  // 32-bit digits held in 64-bit cells

Big FromBytes(const uint8_t* p, size_t n) {
  Big b((n + 3) / 4 + 1, 0);
  for (size_t i = 0; i < n; ++i) b[i / 4] |= uint64_t{p[i]} << (8 * (i % 4));
  return b;
}
void Normalize(Big& a) {
  uint64_t carry = 0;
  for (auto& d : a) {
    d += carry;
    carry = d >> 32;
    d &= 0xffffffff;
  }
  while (carry) {
    a.push_back(carry & 0xffffffff);
    carry >>= 32;
  }
}
Big Add(Big a, const Big& b) {
  if (a.size() < b.size()) a.resize(b.size(), 0);
  for (size_t i = 0; i < b.size(); ++i) a[i] += b[i];
  Normalize(a);
  return a;
}
Big Mul(const Big& a, const Big& b) {
  Big r(a.size() + b.size() + 1, 0);
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      r[i + j] += a[i] * b[j];
      Normalize(r);  // slow and simple: keeps every cell below 2^32
    }
  }
  return r;
}
// Bits [130, ...) and [0, 130).
std::pair<Big, Big> Split130(const Big& a) {
  Big lo(5, 0), hi(a.size(), 0);
  for (size_t bit = 0; bit < a.size() * 32; ++bit) {
    uint64_t v = (a[bit / 32] >> (bit % 32)) & 1;
    if (bit < 130) {
      lo[bit / 32] |= v << (bit % 32);
    } else {
      hi[(bit - 130) / 32] |= v << ((bit - 130) % 32);
    }
  }
  return {lo, hi};
}
bool IsZero(const Big& a) {
  for (auto d : a) {
    if (d) return false;
  }
  return true;
}
// Reduces mod p = 2^130 - 5 (to a value < 2^130 + small; final fix below).
Big ModP(Big a) {
  for (;;) {
    auto [lo, hi] = Split130(a);
    if (IsZero(hi)) return lo;
    a = Add(lo, Mul(hi, Big{5}));
  }
}
std::array<uint8_t, 16> RefPoly1305(std::array<uint8_t, 16> r, const uint8_t s[16],
                                    const uint8_t* msg, size_t n) {
  for (int i : {3, 7, 11, 15}) r[i] &= 15;
  for (int i : {4, 8, 12}) r[i] &= 252;
  const Big rb = FromBytes(r.data(), 16);
  Big h{0};
  for (size_t off = 0; off < n; off += 16) {
    uint8_t block[17] = {};
    const size_t len = std::min<size_t>(16, n - off);
    std::memcpy(block, msg + off, len);
    block[len] = 1;
    h = ModP(Mul(Add(h, FromBytes(block, len + 1)), rb));
  }
  // Fully reduce: h may still be in [p, 2^130).
  Big hp = Add(h, Big{5});  // h + 5 >= 2^130  <=>  h >= p
  if (!IsZero(Split130(hp).second)) h = Split130(hp).first;
  h = Add(h, FromBytes(s, 16));
  std::array<uint8_t, 16> tag{};
  for (size_t i = 0; i < 16; ++i) tag[i] = static_cast<uint8_t>(h[i / 4] >> (8 * (i % 4)));
  return tag;
}

// --- Tests

struct MacVector {
  const char *msg, *r, *k, *nonce, *mac;
};

// From Bernstein, "The Poly1305-AES message-authentication code" (2005),
// appendix B: full Poly1305-AES including AES_k(nonce).
TEST(MacTest, Poly1305AesPaperVectors) {
  const MacVector vectors[] = {
      {"f3f6", "851fc40c3467ac0be05cc20404f3f700", "ec074c835580741701425b623235add6",
       "fb447350c4e868c52ac3275cf9d4327e", "f4c633c3044fc145f84f335cb81953de"},
      {"", "a0f3080000f46400d0c7e9076c834403", "75deaa25c09f208e1dc4ce6b5cad3fbf",
       "61ee09218d29b0aaed7e154a2c5509cc", "dd3fab2251f11ac759f0887129cc2ee7"},
      {"663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136",
       "48443d0bb0d21109c89a100b5ce2c208", "6acb5f61a7176dd320c5c1eb2edcdc74",
       "ae212a55399729595dea458bc621ff0e", "0ee1c16bb73f0f4fd19881753c01cdbe"},
  };
  for (const auto& v : vectors) {
    auto msg = Hex(v.msg);
    auto nonce = Hex(v.nonce);
    uint8_t tag[16];
    internal::Poly1305Aes(HexArray<16>(v.k), HexArray<16>(v.r), nonce.data(), msg.data(),
                          msg.size(), tag);
    EXPECT_EQ(HexEncode(tag, 16), v.mac) << v.msg;
  }
}

// The same construction computed independently: AES-128(k, nonce) for s from
// OpenSSL's ECB, then the big-number Poly1305 above, on random inputs of all
// sizes; also shows masked and unmasked r give the same tag.
TEST(MacTest, MatchesIndependentPoly1305) {
  SeededRandom rnd(42);
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 255u, 1000u}) {
    std::array<uint8_t, 16> r, k, nonce;
    rnd.Fill(r);
    rnd.Fill(k);
    rnd.Fill(nonce);
    std::vector<uint8_t> msg(n);
    rnd.Fill(msg);
    // s = AES-128_k(nonce), via the first block of a Poly1305-AES with r=0:
    // Poly1305 with r = 0 is just s.
    uint8_t s[16];
    internal::Poly1305Aes(k, std::array<uint8_t, 16>{}, nonce.data(), msg.data(), n, s);
    const auto want = RefPoly1305(r, s, msg.data(), n);
    uint8_t got[16];
    internal::Poly1305Aes(k, r, nonce.data(), msg.data(), n, got);
    EXPECT_EQ(HexEncode(got, 16), HexEncode(want.data(), 16)) << "n=" << n;
    auto masked = r;
    for (int i : {3, 7, 11, 15}) masked[i] &= 15;
    for (int i : {4, 8, 12}) masked[i] &= 252;
    uint8_t got_masked[16];
    internal::Poly1305Aes(k, masked, nonce.data(), msg.data(), n, got_masked);
    EXPECT_EQ(HexEncode(got_masked, 16), HexEncode(got, 16));
  }
}

Key TestKey() {
  Key k;
  k.encrypt = HexArray<32>("303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef");
  k.mac_k = HexArray<16>("ef4d8824cb80b2bcc5fbff8a9b12a42c");
  k.mac_r = HexArray<16>("cc8d4b948ee0ebfe1d415de921d10353");
  return k;
}

// A sealed box published with restic's crypto tests.
TEST(SealTest, OpensResticKnownAnswer) {
  auto sealed = Hex(
      "69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc7"
      "5dddf8750");
  auto plain = Open(TestKey(), sealed);
  ASSERT_OK(plain);
  EXPECT_EQ(std::string(plain->begin(), plain->end()), "Dies ist ein Test!");
}

TEST(SealTest, RoundTripAllSizes) {
  SeededRandom rnd(1);
  const Key key = Key::Generate(rnd);
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 1000u, 65536u, 1u << 20}) {
    std::vector<uint8_t> plain(n);
    rnd.Fill(plain);
    auto sealed = Seal(key, rnd, plain);
    ASSERT_EQ(sealed.size(), n + kSealOverhead);
    if (n >= 16) {
      EXPECT_NE(std::memcmp(sealed.data() + 16, plain.data(), 16), 0) << "not encrypted";
    }
    auto opened = Open(key, sealed);
    ASSERT_OK(opened);
    EXPECT_EQ(*opened, plain) << n;
  }
}

TEST(SealTest, FreshIvEachTime) {
  SeededRandom rnd(2);
  const Key key = Key::Generate(rnd);
  std::vector<uint8_t> plain(64, 'x');
  auto a = Seal(key, rnd, plain);
  auto b = Seal(key, rnd, plain);
  EXPECT_NE(a, b);
  EXPECT_FALSE(std::all_of(a.begin(), a.begin() + 16, [](uint8_t v) { return v == 0; }));
}

TEST(SealTest, AnyFlippedByteIsDataLoss) {
  SeededRandom rnd(3);
  const Key key = Key::Generate(rnd);
  std::vector<uint8_t> plain(100);
  rnd.Fill(plain);
  const auto sealed = Seal(key, rnd, plain);
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto bad = sealed;
    bad[i] ^= 0x01;
    auto r = Open(key, bad);
    ASSERT_FALSE(r.ok()) << "flip at " << i;
    EXPECT_EQ(r.status().code(), Code::kDataLoss);
    EXPECT_NE(r.status().message().find("ciphertext verification failed"), std::string::npos);
  }
}

TEST(SealTest, WrongKeyIsDataLossAndShortInputIsInvalid) {
  SeededRandom rnd(4);
  const Key key = Key::Generate(rnd), other = Key::Generate(rnd);
  const auto sealed = Seal(key, rnd, std::vector<uint8_t>(10, 1));
  EXPECT_EQ(Open(other, sealed).status().code(), Code::kDataLoss);
  EXPECT_EQ(Open(key, std::span(sealed).first(31)).status().code(), Code::kInvalid);
  // 32 bytes is a valid sealed empty plaintext only with the right MAC.
  EXPECT_EQ(Open(key, std::span(sealed).first(32)).status().code(), Code::kDataLoss);
}

TEST(SealTest, InPlaceSealAndOpen) {
  SeededRandom rnd(5);
  const Key key = Key::Generate(rnd);
  std::vector<uint8_t> plain(5000);
  rnd.Fill(plain);
  // Payload placed 16 bytes into the buffer: sealed in place, no copy.
  std::vector<uint8_t> buf(plain.size() + kSealOverhead);
  std::memcpy(buf.data() + kIvSize, plain.data(), plain.size());
  Seal(key, rnd, std::span<const uint8_t>(buf.data() + kIvSize, plain.size()), buf.data());
  auto opened = Open(key, buf);
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, plain);
  // And open in place.
  auto n = Open(key, buf, buf.data() + kIvSize);
  ASSERT_OK(n);
  EXPECT_EQ(std::vector<uint8_t>(buf.begin() + kIvSize, buf.begin() + kIvSize + *n), plain);
}

// Per-thread contexts cache the key schedule; a second object sealed on one
// thread must still open on a thread with fresh contexts (counter reset),
// and alternating keys must re-key.
TEST(SealTest, CachedContextsResetCounterAndKey) {
  SeededRandom rnd(6);
  const Key a = Key::Generate(rnd), b = Key::Generate(rnd);
  std::vector<uint8_t> p1(33, 1), p2(47, 2), p3(20, 3);
  auto s1 = Seal(a, rnd, p1);
  auto s2 = Seal(a, rnd, p2);
  auto s3 = Seal(b, rnd, p3);
  auto s4 = Seal(a, rnd, p3);
  std::thread([&] {
    EXPECT_EQ(*Open(a, s2), p2);
    EXPECT_EQ(*Open(b, s3), p3);
    EXPECT_EQ(*Open(a, s4), p3);
    EXPECT_EQ(*Open(a, s1), p1);
  }).join();
}

TEST(SealTest, ConcurrentUseOfOneKey) {
  SystemRandom sys;
  const Key key = Key::Generate(sys);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      SeededRandom rnd(100 + t);
      for (int i = 0; i < 300; ++i) {
        std::vector<uint8_t> plain(1 + (i * 37) % 3000, static_cast<uint8_t>(t));
        auto opened = Open(key, Seal(key, rnd, plain));
        failures[t] += !opened.ok() || *opened != plain;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(KeyTest, GenerateGivesValidDistinctKeys) {
  SeededRandom rnd(8);
  const Key a = Key::Generate(rnd), b = Key::Generate(rnd);
  EXPECT_TRUE(a.Valid());
  EXPECT_NE(a, b);
  EXPECT_FALSE(Key{}.Valid());
  Key half = a;
  half.mac_r = {};
  EXPECT_FALSE(half.Valid());
}

}  // namespace
}  // namespace stash::crypto
