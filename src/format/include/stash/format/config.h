// Config: the repository's `config` file (version, repository id, chunker
// polynomial). Sealed but never compressed, even in v2.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::format {

struct Config {
  uint32_t version = 2;
  std::string id;                   // 64 lowercase hex digits (32 random bytes)
  uint64_t chunker_polynomial = 0;  // degree-53 irreducible polynomial
  friend bool operator==(const Config&, const Config&) = default;
};

// {"version":2,"id":"..","chunker_polynomial":"<hex>"}, no newline. The
// polynomial is lowercase hex without 0x or leading zeros.
std::string EncodeConfig(const Config& config);
// Unknown keys (rustic adds some) are ignored. Missing/ill-typed fields are
// kInvalid; a version other than 1 or 2 is kUnsupported.
Result<Config> DecodeConfig(std::string_view json);

}  // namespace stash::format
