#include "polynomial.h"

#include <bit>

namespace stash::repo::poly {

namespace {

using u128 = unsigned __int128;

int Deg(u128 x) {
  uint64_t hi = static_cast<uint64_t>(x >> 64);
  if (hi) return 127 - std::countl_zero(hi);
  uint64_t lo = static_cast<uint64_t>(x);
  return lo ? 63 - std::countl_zero(lo) : -1;
}

u128 Mod(u128 x, uint64_t p) {
  int dp = Deg(p);
  for (int d = Deg(x); d >= dp; d = Deg(x)) x ^= u128(p) << (d - dp);
  return x;
}

uint64_t MulMod(uint64_t a, uint64_t b, uint64_t p) {
  u128 r = 0;
  for (int i = 0; i < 64; ++i) {
    if (b >> i & 1) r ^= u128(a) << i;
  }
  return static_cast<uint64_t>(Mod(r, p));
}

uint64_t Gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t r = static_cast<uint64_t>(Mod(a, b));
    a = b;
    b = r;
  }
  return a;
}

// (x^(2^i) - x) mod p.
uint64_t Qp(int i, uint64_t p) {
  uint64_t res = 2;  // x
  for (uint64_t k = 1; k < (uint64_t{1} << i); k *= 2) res = MulMod(res, res, p);
  return static_cast<uint64_t>(Mod(u128(res ^ 2), p));
}

}  // namespace

bool Irreducible(uint64_t p) {
  int d = Deg(p);
  if (d < 1) return false;
  for (int i = 1; i <= d / 2; ++i) {
    if (Gcd(p, Qp(i, p)) != 1) return false;
  }
  return true;
}

uint64_t Derive(Random& random) {
  while (true) {
    uint64_t p = random.Next64() & ((uint64_t{1} << 54) - 1);
    p |= (uint64_t{1} << 53) | 1;
    if (Irreducible(p)) return p;
  }
}

std::string ToHex(uint64_t p) {
  static const char* kDigits = "0123456789abcdef";
  if (p == 0) return "0";
  std::string s;
  while (p) {
    s.insert(s.begin(), kDigits[p & 15]);
    p >>= 4;
  }
  return s;
}

Result<uint64_t> FromHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return InvalidError("invalid polynomial \"" + std::string(hex) + "\"");
  uint64_t v = 0;
  for (char c : hex) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return InvalidError("invalid polynomial \"" + std::string(hex) + "\"");
    v = v << 4 | d;
  }
  return v;
}

}  // namespace stash::repo::poly
