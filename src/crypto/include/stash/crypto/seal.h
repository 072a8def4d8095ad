// Sealing: restic's authenticated encryption of every stored object.
//
//   sealed = IV(16) || AES-256-CTR(encrypt, IV, plaintext) || MAC(16)
//   MAC    = Poly1305(r || AES-128-ECB(mac_k, IV), ciphertext)
//
// The MAC covers the ciphertext only (no length block, no AAD). Open()
// verifies the MAC before decrypting anything.
//
// Thread-safety: all functions are thread-safe; one Key may be used by many
// threads at once. OpenSSL contexts are kept per thread and re-keyed only
// when a thread switches keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/crypto/key.h"

namespace stash::crypto {

inline constexpr size_t kIvSize = 16;
inline constexpr size_t kMacSize = 16;
// Bytes a sealed object is longer than its plaintext.
inline constexpr size_t kSealOverhead = kIvSize + kMacSize;

// Seals `plaintext` into `out`, which must have room for plaintext.size() +
// kSealOverhead bytes. The IV comes from `random` (never all zero).
// `out` must either not overlap `plaintext` at all, or satisfy
// out + kIvSize == plaintext.data(): then the plaintext is encrypted in place
// and the caller avoids a copy (reserve 16 bytes before the payload).
void Seal(const Key& key, Random& random, std::span<const uint8_t> plaintext, uint8_t* out);
std::vector<uint8_t> Seal(const Key& key, Random& random, std::span<const uint8_t> plaintext);

// Opens a sealed object into `out` (room for sealed.size() - kSealOverhead
// bytes; out may equal sealed.data() + kIvSize for in-place decryption, or
// not overlap). Returns the plaintext length.
// Errors: kInvalid when `sealed` is shorter than kSealOverhead; kDataLoss
// "ciphertext verification failed" when the MAC does not match (wrong key or
// corrupted data); `out` is left untouched then.
Result<size_t> Open(const Key& key, std::span<const uint8_t> sealed, uint8_t* out);
Result<std::vector<uint8_t>> Open(const Key& key, std::span<const uint8_t> sealed);

}  // namespace stash::crypto
