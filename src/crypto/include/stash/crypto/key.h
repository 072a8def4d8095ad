// Key: the three secrets of a restic key (user key or master key): the
// AES-256-CTR encryption key and the two halves of the Poly1305-AES MAC key.
//
// Layout matches restic: a master key is stored as JSON
// {"mac":{"k":..,"r":..},"encrypt":..}; a user key is the 64-byte scrypt
// output split as encrypt(32) || mac_k(16) || mac_r(16).
//
// Thread-safety: a value type. Sealing/opening with one Key from many threads
// at once is safe (see seal.h).
#pragma once

#include <array>
#include <cstdint>

#include "stash/core/random.h"

namespace stash::crypto {

struct Key {
  std::array<uint8_t, 32> encrypt{};
  // AES-128 key that turns the IV into the Poly1305 "s" half.
  std::array<uint8_t, 16> mac_k{};
  // Poly1305 "r" half. Stored masked (restic <= 0.16) or unmasked (newer
  // restic); the MAC clamps it either way.
  std::array<uint8_t, 16> mac_r{};

  // A fresh random master key. `random` must be a cryptographic source
  // (SystemRandom) outside tests.
  static Key Generate(Random& random);

  // False for the all-zero key (a default-constructed or unset key); restic
  // refuses such keys too.
  bool Valid() const;

  friend bool operator==(const Key&, const Key&) = default;
};

}  // namespace stash::crypto
