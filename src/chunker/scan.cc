#include "scan.h"

namespace stash::chunker::internal {
namespace {

// Lanes of kLaneBytes each: a block holds kLanes * kLaneBytes candidates.
// Each lane pays a 64-byte warm-up, so lanes must be long; a block with a cut
// is rescanned byte by byte, so blocks must be short next to the ~1 MiB
// between cuts.
constexpr size_t kLanes = 4;  // even: lanes are checked in pairs
constexpr size_t kLaneBytes = 4096;
constexpr size_t kBlock = kLanes * kLaneBytes;
// Below this, a lane's warm-up costs more than the interleaving gains.
constexpr size_t kMinLaneBytes = 256;

}  // namespace

size_t ScanScalar(const uint8_t* p, size_t first, size_t last, const Tables& t) {
  const uint64_t* drop = t.drop().data();
  const uint64_t* mod = t.mod().data();
  const int shift = t.shift();
  uint64_t d = 0;
  // Warm up on the window of the first candidate (leading zeros add nothing).
  for (size_t i = first - kWindowSize; i < first; ++i) d = ((d << 8) | p[i]) ^ mod[d >> shift];
  for (size_t i = first; i < last; ++i) {
    // restic's step, d ^= out[o]; d = ((d << 8) | b) ^ mod[d >> shift],
    // rewritten with drop[o] = the same removal after the shift.
    d = (d << 8) ^ mod[d >> shift] ^ (drop[p[i - kWindowSize]] ^ p[i]);
    if ((d & kSplitMask) == 0) return i;
  }
  return last;
}

namespace {

// True when any candidate in [start, start + kLanes * lane) is a cut.
bool BlockHasCut(const uint8_t* p, size_t start, size_t lane, const uint64_t* drop,
                 const uint64_t* mod, int shift) {
  uint64_t d[kLanes];
  const uint8_t* q[kLanes];  // lane l's first candidate
  const uint8_t* o[kLanes];  // the byte leaving lane l's window: q[l] - 64
#pragma GCC unroll 8
  for (size_t l = 0; l < kLanes; ++l) {
    d[l] = 0;
    q[l] = p + start + l * lane;
    o[l] = q[l] - kWindowSize;
  }
  for (size_t i = 0; i < kWindowSize; ++i) {
#pragma GCC unroll 8
    for (size_t l = 0; l < kLanes; ++l) d[l] = ((d[l] << 8) | o[l][i]) ^ mod[d[l] >> shift];
  }
  // A product of two 20-bit values is exact (< 2^40), so it is zero exactly
  // when one lane of the pair is at a cut, and then product - 1 has bit 63
  // set. OR-ing these keeps the loop free of branches and halves the checks.
  uint64_t any = 0;
  for (size_t i = 0; i < lane; ++i) {
#pragma GCC unroll 8
    for (size_t l = 0; l < kLanes; ++l) {
      d[l] = (d[l] << 8) ^ mod[d[l] >> shift] ^ (drop[o[l][i]] ^ q[l][i]);
    }
#pragma GCC unroll 8
    for (size_t l = 0; l < kLanes; l += 2) {
      any |= (d[l] & kSplitMask) * (d[l + 1] & kSplitMask) - 1;
    }
  }
  return (any >> 63) != 0;
}

}  // namespace

size_t FindCut(const uint8_t* p, size_t first, size_t last, const Tables& t) {
  const uint64_t* drop = t.drop().data();
  const uint64_t* mod = t.mod().data();
  const int shift = t.shift();
  size_t pos = first;
  while (last - pos >= kBlock) {
    if (BlockHasCut(p, pos, kLaneBytes, drop, mod, shift)) {
      return ScanScalar(p, pos, pos + kBlock, t);
    }
    pos += kBlock;
  }
  // The tail in shorter lanes (callers often feed 64 KiB or less at a time),
  // then the last few bytes one by one.
  if (const size_t lane = (last - pos) / kLanes; lane >= kMinLaneBytes) {
    if (BlockHasCut(p, pos, lane, drop, mod, shift)) {
      return ScanScalar(p, pos, pos + kLanes * lane, t);
    }
    pos += kLanes * lane;
  }
  return ScanScalar(p, pos, last, t);
}

}  // namespace stash::chunker::internal
