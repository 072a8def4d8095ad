#include "sha256_x2.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "stash/core/random.h"
#include "stash/crypto/sha256.h"

namespace stash::crypto {
namespace {

using internal::CpuHasShaNi;
using internal::Sha256x2With;

std::vector<uint8_t> RandomBytes(uint64_t seed, size_t n) {
  std::vector<uint8_t> v(n);
  SeededRandom(seed).Fill(v);
  return v;
}

// Both paths of the dispatch, or only the fallback on a CPU without SHA-NI.
std::vector<bool> Paths() {
  if (CpuHasShaNi()) return {true, false};
  return {false};
}

void ExpectMatchesSingle(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  const Id want_a = Sha256(a), want_b = Sha256(b);
  for (bool shani : Paths()) {
    const auto [got_a, got_b] = Sha256x2With(a, b, shani);
    ASSERT_EQ(got_a, want_a) << "a len " << a.size() << " b len " << b.size() << " shani " << shani;
    ASSERT_EQ(got_b, want_b) << "a len " << a.size() << " b len " << b.size() << " shani " << shani;
  }
}

// The dispatch must agree with the kernel's view of the CPU, or the fast
// path would silently never run (or fault on CPUs without SHA-NI).
TEST(Sha256x2Test, DispatchMatchesCpuFlags) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  std::stringstream text;
  text << in.rdbuf();
  const std::string flags = text.str();
  if (flags.find("flags") == std::string::npos) GTEST_SKIP() << "not an x86 cpuinfo";
  const bool has =
      flags.find(" sha_ni") != std::string::npos && flags.find(" sse4_1") != std::string::npos;
  EXPECT_EQ(CpuHasShaNi(), has);
}

TEST(Sha256x2Test, KnownDigests) {
  const std::string abc = "abc";
  const std::span<const uint8_t> abc_bytes(reinterpret_cast<const uint8_t*>(abc.data()),
                                           abc.size());
  const auto [x, y] = Sha256x2(abc_bytes, {});
  EXPECT_EQ(x.Hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(y.Hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256x2Test, EveryLengthUpTo300AgainstSeveralOthers) {
  const std::vector<uint8_t> a = RandomBytes(11, 300);
  const std::vector<uint8_t> b = RandomBytes(12, 300);
  for (size_t la = 0; la <= 300; ++la) {
    for (size_t lb :
         {size_t{0}, size_t{1}, size_t{64}, size_t{100}, size_t{191}, la, size_t{300}}) {
      ExpectMatchesSingle(std::span(a).first(la), std::span(b).first(lb));
      ExpectMatchesSingle(std::span(b).first(lb), std::span(a).first(la));
    }
  }
}

TEST(Sha256x2Test, BlockBoundaryPairs) {
  // Lengths where the padding needs one vs two blocks, or the lanes part.
  const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 192, 4096};
  const std::vector<uint8_t> a = RandomBytes(21, 4096);
  const std::vector<uint8_t> b = RandomBytes(22, 4096);
  for (size_t la : lens) {
    for (size_t lb : lens) ExpectMatchesSingle(std::span(a).first(la), std::span(b).first(lb));
  }
}

TEST(Sha256x2Test, LargeUnequalAndIdenticalMessages) {
  const std::vector<uint8_t> big = RandomBytes(31, (1 << 20) + 3);
  const std::vector<uint8_t> small = RandomBytes(32, 17);
  ExpectMatchesSingle(big, small);
  ExpectMatchesSingle(small, big);
  ExpectMatchesSingle(big, big);
  const std::vector<uint8_t> big2 = RandomBytes(33, 1 << 20);
  ExpectMatchesSingle(big, big2);
}

TEST(Sha256x2Test, UnalignedSpans) {
  const std::vector<uint8_t> buf = RandomBytes(41, 5000);
  for (size_t off_a : {1u, 3u, 7u, 13u}) {
    for (size_t off_b : {2u, 5u, 15u}) {
      ExpectMatchesSingle(std::span(buf).subspan(off_a, 1000 + off_b),
                          std::span(buf).subspan(off_b, 999 + off_a));
    }
  }
}

TEST(Sha256x2Test, PublicEntryMatchesBothPaths) {
  const std::vector<uint8_t> a = RandomBytes(51, 70000);
  const std::vector<uint8_t> b = RandomBytes(52, 65536);
  const auto got = Sha256x2(a, b);
  EXPECT_EQ(got.first, Sha256(a));
  EXPECT_EQ(got.second, Sha256(b));
  EXPECT_EQ(Sha256x2With(a, b, false), got);
}

}  // namespace
}  // namespace stash::crypto
