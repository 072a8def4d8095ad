// Hashes and HMAC for request signing (S3 SigV4, Azure SharedKey,
// GCS JWT). Private to the backend layer; thin wrappers over OpenSSL EVP so
// signing code reads like the specifications.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::backend {

std::string Sha256(std::span<const uint8_t> data);  // 32 raw bytes
inline std::string Sha256(std::string_view s) {
  return Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}
std::string Md5(std::span<const uint8_t> data);                       // 16 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Hex(std::string_view raw);

// RS256: RSASSA-PKCS1-v1_5 with SHA-256 over `data`, using a PEM private key.
// Errors never include the key.
Result<std::string> SignRs256(std::string_view pem_private_key, std::string_view data);

}  // namespace stash::backend
