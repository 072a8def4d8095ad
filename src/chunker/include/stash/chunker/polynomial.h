// Polynomials over GF(2) of degree < 64 for restic's Rabin fingerprint
// chunker: the repository config stores one irreducible polynomial of degree
// 53, and every restic-compatible writer must chunk with it to dedup with
// restic-written data.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stash/core/random.h"
#include "stash/core/result.h"

namespace stash::chunker {

// Bit i is the coefficient of x^i.
using Pol = uint64_t;

// Degree of `p`; -1 for the zero polynomial.
int Deg(Pol p);

// Ben-Or's test (as restic's Pol.Irreducible). False for constants.
bool Irreducible(Pol p);

// restic's polynomial generation: 8 random bytes read little-endian, masked to
// 54 bits, bits 53 and 0 set; repeated until irreducible (about 1 in 27 is).
Pol DerivePolynomial(Random& random);

// What restic checks when it opens a repository (irreducible), plus what its
// chunker needs to run (degree 9..53). kInvalid naming the polynomial
// otherwise.
Status CheckChunkerPolynomial(Pol p);

// As Go's strconv.FormatUint(p, 16): lowercase, no prefix, no leading zeros.
std::string PolToHex(Pol p);
// As Go's strconv.ParseUint(s, 16, 64): hex digits of either case, no "0x";
// kInvalid for empty, non-hex or over-long input.
Result<Pol> PolFromHex(std::string_view hex);

}  // namespace stash::chunker
