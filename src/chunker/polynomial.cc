#include "stash/chunker/polynomial.h"

#include <bit>

namespace stash::chunker {
namespace {

Pol Mod(Pol x, Pol p) {
  const int dp = Deg(p);
  for (int dx = Deg(x); dx >= dp; dx = Deg(x)) x ^= p << (dx - dp);
  return x;
}

// a * b mod p; the 128-bit intermediate keeps degree-63 moduli exact.
Pol MulMod(Pol a, Pol b, Pol p) {
  const int dp = Deg(p);
  a = Mod(a, p);
  unsigned __int128 res = 0;
  for (int i = Deg(b); i >= 0; --i) {
    res <<= 1;
    if ((res >> dp) & 1) res ^= p;
    if ((b >> i) & 1) res ^= a;
  }
  return static_cast<Pol>(res);
}

Pol Gcd(Pol a, Pol b) {
  while (b != 0) {
    const Pol r = Mod(a, b);
    a = b;
    b = r;
  }
  return a;
}

// (x^(2^i) - x) mod p, by squaring x i times.
Pol XPow2PowMinusX(int i, Pol p) {
  Pol res = Mod(2, p);
  for (int k = 0; k < i; ++k) res = MulMod(res, res, p);
  return Mod(res ^ 2, p);
}

}  // namespace

int Deg(Pol p) { return p == 0 ? -1 : 63 - std::countl_zero(p); }

bool Irreducible(Pol p) {
  const int d = Deg(p);
  if (d < 1) return false;
  // Ben-Or: p is irreducible iff it shares no factor with x^(2^i) - x for
  // i = 1..deg/2 (those products hold every irreducible of degree dividing i).
  for (int i = 1; i <= d / 2; ++i) {
    if (Gcd(p, XPow2PowMinusX(i, p)) != 1) return false;
  }
  return true;
}

Pol DerivePolynomial(Random& random) {
  for (;;) {
    uint8_t b[8];
    random.Fill(b);
    Pol f = 0;
    for (int i = 7; i >= 0; --i) f = (f << 8) | b[i];  // little-endian, as restic
    f &= (Pol{1} << 54) - 1;
    f |= (Pol{1} << 53) | 1;
    if (Irreducible(f)) return f;
  }
}

Status CheckChunkerPolynomial(Pol p) {
  const int d = Deg(p);
  if (d < 9 || d > 53) {
    return InvalidError("chunker polynomial " + PolToHex(p) + " has degree " + std::to_string(d) +
                        "; the chunker needs degree 9..53 (restic writes 53): the repository "
                        "config is damaged");
  }
  if (!Irreducible(p)) {
    return InvalidError("chunker polynomial " + PolToHex(p) +
                        " is not irreducible: the repository config is damaged");
  }
  return Status::Ok();
}

std::string PolToHex(Pol p) {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (p == 0) return "0";
  std::string s;
  for (; p != 0; p >>= 4) s.insert(s.begin(), kDigits[p & 15]);
  return s;
}

Result<Pol> PolFromHex(std::string_view hex) {
  if (hex.empty()) return InvalidError("chunker polynomial is empty; expected hex digits");
  Pol p = 0;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return InvalidError("chunker polynomial \"" + std::string(hex) + "\" is not hexadecimal");
    }
    if (p >> 60) {
      return InvalidError("chunker polynomial \"" + std::string(hex) + "\" exceeds 64 bits");
    }
    p = (p << 4) | static_cast<Pol>(v);
  }
  return p;
}

}  // namespace stash::chunker
