#include "scan.h"

namespace stash::chunker::internal {
namespace {

// Lanes of kLaneBytes each: a block holds kLanes * kLaneBytes candidates.
// Each lane pays a 64-byte warm-up, so lanes must be long; a block with a cut
// is rescanned byte by byte, so blocks must be short next to the ~1 MiB
// between cuts.
constexpr size_t kLanes = 4;
constexpr size_t kLaneBytes = 4096;
constexpr size_t kBlock = kLanes * kLaneBytes;

}  // namespace

size_t ScanScalar(const uint8_t* p, size_t first, size_t last, const Tables& t) {
  const uint64_t* out = t.out().data();
  const uint64_t* mod = t.mod().data();
  const int shift = t.shift();
  uint64_t d = 0;
  // Warm up on the window of the first candidate (leading zeros add nothing).
  for (size_t i = first - kWindowSize; i < first; ++i) d = ((d << 8) | p[i]) ^ mod[d >> shift];
  for (size_t i = first; i < last; ++i) {
    d ^= out[p[i - kWindowSize]];
    d = ((d << 8) | p[i]) ^ mod[d >> shift];
    if ((d & kSplitMask) == 0) return i;
  }
  return last;
}

namespace {

// True when any candidate in [start, start + kBlock) is a cut.
bool BlockHasCut(const uint8_t* p, size_t start, const uint64_t* out, const uint64_t* mod,
                 int shift) {
  uint64_t d[kLanes];
  const uint8_t* q[kLanes];  // lane l's first candidate
  const uint8_t* o[kLanes];  // the byte leaving lane l's window: q[l] - 64
#pragma GCC unroll 8
  for (size_t l = 0; l < kLanes; ++l) {
    d[l] = 0;
    q[l] = p + start + l * kLaneBytes;
    o[l] = q[l] - kWindowSize;
  }
  for (size_t i = 0; i < kWindowSize; ++i) {
#pragma GCC unroll 8
    for (size_t l = 0; l < kLanes; ++l) d[l] = ((d[l] << 8) | o[l][i]) ^ mod[d[l] >> shift];
  }
  // (d & mask) - 1 has bit 63 set exactly when d & mask == 0; OR-ing these
  // keeps the loop free of branches.
  uint64_t any = 0;
  for (size_t i = 0; i < kLaneBytes; ++i) {
#pragma GCC unroll 8
    for (size_t l = 0; l < kLanes; ++l) {
      uint64_t x = d[l] ^ out[o[l][i]];
      x = ((x << 8) | q[l][i]) ^ mod[x >> shift];
      any |= (x & kSplitMask) - 1;
      d[l] = x;
    }
  }
  return (any >> 63) != 0;
}

}  // namespace

size_t FindCut(const uint8_t* p, size_t first, size_t last, const Tables& t) {
  const uint64_t* out = t.out().data();
  const uint64_t* mod = t.mod().data();
  const int shift = t.shift();
  size_t pos = first;
  while (last - pos >= kBlock) {
    if (BlockHasCut(p, pos, out, mod, shift)) return ScanScalar(p, pos, pos + kBlock, t);
    pos += kBlock;
  }
  return ScanScalar(p, pos, last, t);
}

}  // namespace stash::chunker::internal
