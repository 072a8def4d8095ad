#include "stash/crypto/seal.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "mac.h"

namespace stash::crypto {

void Seal(const Key& key, Random& random, std::span<const uint8_t> plaintext, uint8_t* out) {
  uint8_t* iv = out;
  // An all-zero IV is what an uninitialised buffer looks like; restic rejects
  // it, so never emit one.
  do {
    random.Fill(std::span<uint8_t>(iv, kIvSize));
  } while (std::all_of(iv, iv + kIvSize, [](uint8_t b) { return b == 0; }));
  uint8_t* ciphertext = out + kIvSize;
  // In place when ciphertext == plaintext.data(); otherwise disjoint.
  internal::Aes256Ctr(key.encrypt, iv, plaintext.data(), plaintext.size(), ciphertext);
  internal::Poly1305Aes(key.mac_k, key.mac_r, iv, ciphertext, plaintext.size(),
                        ciphertext + plaintext.size());
}

std::vector<uint8_t> Seal(const Key& key, Random& random, std::span<const uint8_t> plaintext) {
  std::vector<uint8_t> out(plaintext.size() + kSealOverhead);
  Seal(key, random, plaintext, out.data());
  return out;
}

Result<size_t> Open(const Key& key, std::span<const uint8_t> sealed, uint8_t* out) {
  if (sealed.size() < kSealOverhead) {
    return InvalidError("sealed object is " + std::to_string(sealed.size()) +
                        " bytes, shorter than the 32-byte IV and MAC: the file is truncated");
  }
  const uint8_t* iv = sealed.data();
  const uint8_t* ciphertext = iv + kIvSize;
  const size_t n = sealed.size() - kSealOverhead;
  const uint8_t* mac = ciphertext + n;
  uint8_t want[kMacSize];
  internal::Poly1305Aes(key.mac_k, key.mac_r, iv, ciphertext, n, want);
  if (CRYPTO_memcmp(want, mac, kMacSize) != 0) {
    return DataLossError(
        "ciphertext verification failed: wrong key or corrupted data (check the password; "
        "run `check --read-data` if the password is right)");
  }
  internal::Aes256Ctr(key.encrypt, iv, ciphertext, n, out);
  return n;
}

Result<std::vector<uint8_t>> Open(const Key& key, std::span<const uint8_t> sealed) {
  std::vector<uint8_t> out(sealed.size() >= kSealOverhead ? sealed.size() - kSealOverhead : 0);
  STASH_ASSIGN_OR_RETURN(size_t n, Open(key, sealed, out.data()));
  out.resize(n);
  return out;
}

}  // namespace stash::crypto
