#include "stash/chunker/chunker.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "scan.h"
#include "stash/core/id.h"
#include "stash/core/random.h"

namespace stash::chunker {
namespace {

constexpr Pol kTestPol = 0x3DA3358B4DC173;

// restic's algorithm written literally from the format notes (window ring,
// seed byte 1 after each reset, MinSize-64 bytes skipped unhashed). The
// production Chunker computes the same cuts a different way, so this is the
// reference it is checked against.
std::vector<size_t> ReferenceChunks(const std::vector<uint8_t>& data, const Tables& t) {
  std::vector<size_t> sizes;
  uint8_t window[64];
  size_t wpos = 0, count = 0, pre = 0;
  uint64_t digest = 0;
  auto slide = [&](uint8_t b) {
    const uint8_t out = window[wpos];
    window[wpos] = b;
    wpos = (wpos + 1) % 64;
    digest ^= t.out()[out];
    const uint64_t idx = digest >> t.shift();
    digest = (digest << 8) | b;
    digest ^= t.mod()[idx];
  };
  auto reset = [&] {
    std::fill(window, window + 64, 0);
    wpos = 0;
    count = 0;
    digest = 0;
    slide(1);
    pre = kMinSize - 64;
  };
  reset();
  for (uint8_t b : data) {
    ++count;
    if (pre > 0) {
      --pre;
      continue;
    }
    slide(b);
    if (count >= kMinSize && ((digest & kSplitMask) == 0 || count >= kMaxSize)) {
      sizes.push_back(count);
      reset();
    }
  }
  if (count > 0) sizes.push_back(count);
  return sizes;
}

// Feeds `data` in pieces of `piece` bytes (0: all at once).
std::vector<size_t> ChunkSizes(const std::vector<uint8_t>& data, size_t piece) {
  Chunker c(TablesFor(kTestPol));
  c.Reset();
  std::vector<size_t> sizes;
  size_t current = 0;
  for (size_t off = 0; off < data.size();) {
    const size_t len = piece == 0 ? data.size() - off : std::min(piece, data.size() - off);
    std::span<const uint8_t> rest(data.data() + off, len);
    off += len;
    while (!rest.empty()) {
      bool cut;
      const size_t n = c.Next(rest, &cut);
      current += n;
      rest = rest.subspan(n);
      if (cut) {
        sizes.push_back(current);
        current = 0;
      }
    }
  }
  if (current > 0) sizes.push_back(current);
  return sizes;
}

std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  SeededRandom rnd(seed);
  rnd.Fill(v);
  return v;
}

std::string Sha256Hex(const uint8_t* p, size_t n) {
  uint8_t md[32];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(p, n, md, &len, EVP_sha256(), nullptr), 1);
  return HexEncode(md, len);
}

// restic/chunker's "chunks2": zero windows fingerprint to 0, so every chunk
// of zeros ends at exactly MinSize.
TEST(ChunkerTest, ZerosCutAtMinSize) {
  std::vector<uint8_t> zeros(4 * kMinSize, 0);
  const auto sizes = ChunkSizes(zeros, 0);
  ASSERT_EQ(sizes, std::vector<size_t>(4, kMinSize));
  EXPECT_EQ(Sha256Hex(zeros.data(), kMinSize),
            "07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541");
}

TEST(ChunkerTest, MatchesReferenceOnRandomData) {
  const auto data = RandomBytes(24 << 20, 23);
  const auto want = ReferenceChunks(data, *TablesFor(kTestPol));
  ASSERT_GT(want.size(), 8u);  // enough cuts to mean something
  EXPECT_EQ(ChunkSizes(data, 0), want);
  size_t total = 0;
  for (size_t s : want) total += s;
  EXPECT_EQ(total, data.size());
}

TEST(ChunkerTest, SameCutsForAnySplitOfTheInput) {
  const auto data = RandomBytes(6 << 20, 4);
  const auto want = ChunkSizes(data, 0);
  EXPECT_EQ(want, ReferenceChunks(data, *TablesFor(kTestPol)));
  for (size_t piece : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4097}, size_t{16384},
                       size_t{65536 + 13}, size_t{1} << 20}) {
    EXPECT_EQ(ChunkSizes(data, piece), want) << "piece " << piece;
  }
}

// A window that never fingerprints to a cut: every chunk is forced at MaxSize.
TEST(ChunkerTest, ForcedCutAtMaxSize) {
  std::vector<uint8_t> ff(2 * kMaxSize + 12345, 0xff);
  const auto want = ReferenceChunks(ff, *TablesFor(kTestPol));
  ASSERT_EQ(want, (std::vector<size_t>{kMaxSize, kMaxSize, 12345}));
  EXPECT_EQ(ChunkSizes(ff, 0), want);
  EXPECT_EQ(ChunkSizes(ff, 1000003), want);
}

TEST(ChunkerTest, MixedContentMatchesReference) {
  // Runs of zeros, a repeating pattern and random bytes.
  std::vector<uint8_t> data;
  const auto rnd = RandomBytes(3 << 20, 77);
  data.insert(data.end(), rnd.begin(), rnd.begin() + (1 << 20) + 17);
  data.insert(data.end(), 700000, 0);
  for (int i = 0; i < 3000000; ++i) data.push_back(static_cast<uint8_t>(i % 251));
  data.insert(data.end(), rnd.begin() + (1 << 20), rnd.end());
  const auto want = ReferenceChunks(data, *TablesFor(kTestPol));
  EXPECT_EQ(ChunkSizes(data, 0), want);
  EXPECT_EQ(ChunkSizes(data, 777777), want);
}

TEST(ChunkerTest, SmallFileIsOneChunkAndResetStartsOver) {
  const auto data = RandomBytes(kMinSize - 1, 9);
  EXPECT_EQ(ChunkSizes(data, 0), std::vector<size_t>{kMinSize - 1});
  Chunker c(TablesFor(kTestPol));
  bool cut = true;
  EXPECT_EQ(c.Next(std::span(data).first(1000), &cut), 1000u);
  EXPECT_FALSE(cut);
  EXPECT_EQ(c.count(), 1000u);
  c.Reset();
  EXPECT_EQ(c.count(), 0u);
  std::vector<uint8_t> zeros(kMinSize + 10, 0);
  EXPECT_EQ(c.Next(zeros, &cut), kMinSize);
  EXPECT_TRUE(cut);
  EXPECT_EQ(c.count(), 0u);
}

// The interleaved-lane scan must agree with the one-chain scan everywhere,
// including cuts near block and lane edges.
TEST(ChunkerTest, LaneScanEqualsScalarScan) {
  const auto data = RandomBytes(16 << 20, 12);
  const Tables& t = *TablesFor(kTestPol);
  size_t pos = 64, cuts = 0;
  while (pos < data.size()) {
    const size_t a = internal::ScanScalar(data.data(), pos, data.size(), t);
    const size_t b = internal::FindCut(data.data(), pos, data.size(), t);
    ASSERT_EQ(a, b) << "from " << pos;
    if (a == data.size()) break;
    ++cuts;
    // Restart at offsets after the previous cut that put this cut at varied
    // lane positions.
    for (size_t back : {size_t{1}, size_t{4095}, size_t{4096}, size_t{16383}, size_t{16384}}) {
      if (a >= back + pos) {
        ASSERT_EQ(internal::FindCut(data.data(), a - back, data.size(), t), a) << back;
      }
    }
    // Short ranges go through shorter lanes and the byte-by-byte tail.
    for (size_t back : {size_t{0}, size_t{3}, size_t{700}, size_t{5000}}) {
      for (size_t fwd : {size_t{1}, size_t{2}, size_t{999}, size_t{9000}}) {
        if (a < back + pos || a + fwd > data.size()) continue;
        ASSERT_EQ(internal::FindCut(data.data(), a - back, a + fwd, t), a) << back << " " << fwd;
        ASSERT_EQ(internal::FindCut(data.data(), a - back, a, t), a) << back;
      }
    }
    pos = a + 1;
  }
  EXPECT_GT(cuts, 8u);
}

TEST(ChunkerTest, TablesAreCachedPerPolynomial) {
  EXPECT_EQ(TablesFor(kTestPol).get(), TablesFor(kTestPol).get());
  EXPECT_EQ(TablesFor(kTestPol)->pol(), kTestPol);
  EXPECT_EQ(TablesFor(kTestPol)->shift(), 45);
}

}  // namespace
}  // namespace stash::chunker
