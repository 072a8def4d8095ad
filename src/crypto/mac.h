// Private: the keyed primitives behind Seal/Open, exposed to the layer's
// tests so they can be checked against published vectors one by one.
//
// Thread-safety: thread-safe; each thread keeps its own OpenSSL contexts and
// re-keys them only when it sees a different key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "stash/crypto/key.h"

namespace stash::crypto::internal {

// Poly1305-AES (Bernstein): tag = Poly1305(r || AES-128_k(nonce), msg).
// `r` is clamped here, so masked and unmasked r give the same tag.
void Poly1305Aes(const std::array<uint8_t, 16>& k, const std::array<uint8_t, 16>& r,
                 const uint8_t* nonce, const uint8_t* msg, size_t size, uint8_t* tag);

// AES-256-CTR with the 16-byte IV as the whole initial big-endian counter
// block. `out` may equal `in`.
void Aes256Ctr(const std::array<uint8_t, 32>& key, const uint8_t* iv, const uint8_t* in,
               size_t size, uint8_t* out);

}  // namespace stash::crypto::internal
