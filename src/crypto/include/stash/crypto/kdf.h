// Password-based key derivation: restic's user key = scrypt(password, salt,
// N, r, p, dkLen 64), split as encrypt(32) || mac_k(16) || mac_r(16).
//
// Thread-safety: stateless; safe from any thread. Each call allocates about
// 128 * N * r * p bytes (32 MiB for restic's defaults).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "stash/core/result.h"
#include "stash/crypto/key.h"

namespace stash::crypto {

struct ScryptParams {
  uint64_t n = 0;  // CPU/memory cost, a power of two > 1
  uint32_t r = 0;  // block size
  uint32_t p = 0;  // parallelism

  friend bool operator==(const ScryptParams&, const ScryptParams&) = default;
};

// The parameters stash writes into new key files: N=32768, r=8, p=1. restic
// calibrates p to ~500 ms (it typically writes p=5 or 6); p=1 keeps `stash`
// commands fast (~80 ms per key) while N and r, which set the memory cost an
// attacker pays per guess, match restic. Readers accept any valid N/r/p, so
// restic opens these keys. Tests pass cheaper params explicitly.
ScryptParams DefaultScryptParams();

// Checks the parameters scrypt accepts, within stash's bounds for a key file
// it did not write: at most 2 GiB of memory and N * r * p at most 2^26 (256
// times restic's default cost; restic itself bounds neither). kInvalid with a
// message naming the bad value otherwise.
Status ValidateScryptParams(ScryptParams params);

// Derives the user key that seals a repository's master key in a key file.
// Errors: kInvalid for invalid params (see ValidateScryptParams);
// kResourceExhausted when scrypt could not get its memory.
Result<Key> DeriveUserKey(std::string_view password, std::span<const uint8_t> salt,
                          ScryptParams params);

}  // namespace stash::crypto
