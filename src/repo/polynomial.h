// Private to repo: the chunker polynomial checks restic does on init/open
// (random irreducible polynomial of degree 53, Ben-Or's test, hex as Go's
// FormatUint). Kept here until stash::chunker publishes its polynomial.h.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stash/core/random.h"
#include "stash/core/result.h"

namespace stash::repo::poly {

bool Irreducible(uint64_t p);
uint64_t Derive(Random& random);
std::string ToHex(uint64_t p);
Result<uint64_t> FromHex(std::string_view hex);

}  // namespace stash::repo::poly
