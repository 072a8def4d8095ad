// Two-lane SHA-256 (FIPS 180-4) on the x86 SHA extensions.
//
// SHA256RNDS2 has a latency about twice its issue interval on the CPUs we run
// on, so one message keeps the unit half idle; feeding it the round chains of
// two independent messages in the same instruction stream fills the gaps.
// Every function touching SHA-NI carries a target attribute instead of the
// library being built with -msha, so the binary still runs on CPUs without it
// (Sha256x2 then falls back to OpenSSL).
#include "sha256_x2.h"

#include <algorithm>
#include <cstring>

#include "stash/crypto/sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define STASH_SHA256X2_X86 1
#define STASH_SHANI __attribute__((target("sha,sse4.1")))
#endif

namespace stash::crypto {
namespace internal {

#ifdef STASH_SHA256X2_X86
namespace {

constexpr size_t kBlock = 64;

alignas(16) constexpr uint32_t kRoundK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// SHA256RNDS2 wants the working variables split as {A,B,E,F} and {C,D,G,H}
// (A and C in the top dword). Keeping the state in that form between blocks
// avoids reshuffling per block.
struct Lane {
  __m128i abef;
  __m128i cdgh;
};

STASH_SHANI inline __m128i ByteSwapMask() {
  // Message words and digest words are big-endian.
  return _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
}

STASH_SHANI inline Lane InitialLane() {
  // H(0) from FIPS 180-4 5.3.3, laid out as described on Lane.
  return Lane{_mm_set_epi32(0x6a09e667, 0xbb67ae85, 0x510e527f, 0x9b05688c),
              _mm_set_epi32(0x3c6ef372, 0xa54ff53a, 0x1f83d9ab, 0x5be0cd19)};
}

// W[t..t+3] from W[t-16..t-1] held in x (t-16..), y, z, w (..t-1).
STASH_SHANI inline __m128i NextSchedule(__m128i x, __m128i y, __m128i z, __m128i w) {
  const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(x, y), _mm_alignr_epi8(w, z, 4));
  return _mm_sha256msg2_epu32(partial, w);
}

// Four rounds with W+K in wk.
STASH_SHANI inline void FourRounds(Lane& s, __m128i wk) {
  s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
  s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

// Compresses `blocks` 64-byte blocks of `p` into `s`.
STASH_SHANI void CompressOne(Lane& s, const uint8_t* p, size_t blocks) {
  const __m128i swap = ByteSwapMask();
  for (; blocks > 0; --blocks, p += kBlock) {
    const Lane saved = s;
    __m128i m[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if (i < 4) {
        m[i] =
            _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), swap);
      } else {
        m[i & 3] = NextSchedule(m[i & 3], m[(i + 1) & 3], m[(i + 2) & 3], m[(i + 3) & 3]);
      }
      const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundK + 4 * i));
      FourRounds(s, _mm_add_epi32(m[i & 3], k));
    }
    s.abef = _mm_add_epi32(s.abef, saved.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, saved.cdgh);
  }
}

// CompressOne on two messages at once, written as one instruction stream so
// the out-of-order core can overlap the two round chains.
STASH_SHANI void CompressTwo(Lane& sa, const uint8_t* pa, Lane& sb, const uint8_t* pb,
                             size_t blocks) {
  const __m128i swap = ByteSwapMask();
  for (; blocks > 0; --blocks, pa += kBlock, pb += kBlock) {
    const Lane saved_a = sa;
    const Lane saved_b = sb;
    __m128i ma[4];
    __m128i mb[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if (i < 4) {
        ma[i] =
            _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pa + 16 * i)), swap);
        mb[i] =
            _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pb + 16 * i)), swap);
      } else {
        ma[i & 3] = NextSchedule(ma[i & 3], ma[(i + 1) & 3], ma[(i + 2) & 3], ma[(i + 3) & 3]);
        mb[i & 3] = NextSchedule(mb[i & 3], mb[(i + 1) & 3], mb[(i + 2) & 3], mb[(i + 3) & 3]);
      }
      const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundK + 4 * i));
      const __m128i wka = _mm_add_epi32(ma[i & 3], k);
      const __m128i wkb = _mm_add_epi32(mb[i & 3], k);
      // Interleave the four RNDS2 of this step across lanes by hand.
      sa.cdgh = _mm_sha256rnds2_epu32(sa.cdgh, sa.abef, wka);
      sb.cdgh = _mm_sha256rnds2_epu32(sb.cdgh, sb.abef, wkb);
      sa.abef = _mm_sha256rnds2_epu32(sa.abef, sa.cdgh, _mm_shuffle_epi32(wka, 0x0e));
      sb.abef = _mm_sha256rnds2_epu32(sb.abef, sb.cdgh, _mm_shuffle_epi32(wkb, 0x0e));
    }
    sa.abef = _mm_add_epi32(sa.abef, saved_a.abef);
    sa.cdgh = _mm_add_epi32(sa.cdgh, saved_a.cdgh);
    sb.abef = _mm_add_epi32(sb.abef, saved_b.abef);
    sb.cdgh = _mm_add_epi32(sb.cdgh, saved_b.cdgh);
  }
}

// Hashes what is left of `msg` after its first `done_blocks` blocks (the
// remaining full blocks, then the padding) and returns the digest.
STASH_SHANI Id FinishLane(Lane s, std::span<const uint8_t> msg, size_t done_blocks) {
  const size_t full = msg.size() / kBlock;
  CompressOne(s, msg.data() + done_blocks * kBlock, full - done_blocks);

  // Padding (FIPS 180-4 5.1.1): 0x80, zeros, then the bit length as a 64-bit
  // big-endian number ending a block; needs a second block when fewer than 9
  // bytes of the last one are free.
  const size_t tail = msg.size() % kBlock;
  uint8_t pad[2 * kBlock] = {};
  if (tail > 0) std::memcpy(pad, msg.data() + full * kBlock, tail);
  pad[tail] = 0x80;
  const size_t pad_blocks = tail < kBlock - 8 ? 1 : 2;
  const uint64_t bits = static_cast<uint64_t>(msg.size()) * 8;
  for (int i = 0; i < 8; ++i) {
    pad[pad_blocks * kBlock - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  }
  CompressOne(s, pad, pad_blocks);

  // Back from {A,B,E,F}/{C,D,G,H} to A..H, then to big-endian bytes.
  const __m128i abef = _mm_shuffle_epi32(s.abef, 0x1b);  // dwords a,b,e,f from low
  const __m128i ghcd = _mm_shuffle_epi32(s.cdgh, 0xb1);  // dwords g,h,c,d from low
  const __m128i abcd = _mm_blend_epi16(abef, ghcd, 0xf0);
  const __m128i efgh = _mm_alignr_epi8(ghcd, abef, 8);
  const __m128i swap = ByteSwapMask();
  Id id;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(id.data()), _mm_shuffle_epi8(abcd, swap));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(id.data() + 16), _mm_shuffle_epi8(efgh, swap));
  return id;
}

STASH_SHANI std::pair<Id, Id> ShaNiX2(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  Lane sa = InitialLane();
  Lane sb = InitialLane();
  const size_t both = std::min(a.size(), b.size()) / kBlock;
  CompressTwo(sa, a.data(), sb, b.data(), both);
  return {FinishLane(sa, a, both), FinishLane(sb, b, both)};
}

}  // namespace

bool CpuHasShaNi() {
  // CPUID directly: __builtin_cpu_supports("sha") is GCC's; clang 14 (the
  // sanitizer and fuzzing builds) does not know the name.
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19))) return false;  // SSE4.1
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & (1u << 29)) != 0;  // SHA
  }();
  return has;
}

std::pair<Id, Id> Sha256x2With(std::span<const uint8_t> a, std::span<const uint8_t> b,
                               bool use_shani) {
  if (use_shani) return ShaNiX2(a, b);
  return {Sha256(a), Sha256(b)};
}

#else  // not x86: OpenSSL only.

bool CpuHasShaNi() { return false; }

std::pair<Id, Id> Sha256x2With(std::span<const uint8_t> a, std::span<const uint8_t> b, bool) {
  return {Sha256(a), Sha256(b)};
}

#endif

}  // namespace internal

std::pair<Id, Id> Sha256x2(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return internal::Sha256x2With(a, b, internal::CpuHasShaNi());
}

}  // namespace stash::crypto
