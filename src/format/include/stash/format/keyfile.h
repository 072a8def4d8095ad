// Key files (keys/<id>, plaintext JSON) and the master key they seal.
//
// A key file holds scrypt parameters and a salt; the password-derived user key
// opens `data`, which is the sealed MasterKeyJson. Sealing and scrypt belong
// to the crypto layer; this header only converts documents.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"
#include "stash/format/time.h"

namespace stash::format {

struct KeyFile {
  Timestamp created;
  std::string username;
  std::string hostname;
  std::string kdf = "scrypt";
  int64_t n = 0;  // scrypt N
  int64_t r = 0;
  int64_t p = 0;
  std::vector<uint8_t> salt;  // 64 random bytes
  std::vector<uint8_t> data;  // IV || ciphertext || MAC of the master key JSON
  friend bool operator==(const KeyFile&, const KeyFile&) = default;
};

// {"created":..,"username":..,"hostname":..,"kdf":..,"N":..,"r":..,"p":..,
//  "salt":b64,"data":b64}, no trailing newline (the file id is its SHA-256).
std::string EncodeKeyFile(const KeyFile& key);
// kInvalid on malformed JSON or fields; a kdf other than "scrypt" is
// kUnsupported.
Result<KeyFile> DecodeKeyFile(std::string_view json);

struct MasterKey {
  std::array<uint8_t, 16> mac_k{};    // AES-128 key for the Poly1305 nonce
  std::array<uint8_t, 16> mac_r{};    // Poly1305 r (restic <= 0.16 stored it clamped)
  std::array<uint8_t, 32> encrypt{};  // AES-256-CTR key
  friend bool operator==(const MasterKey&, const MasterKey&) = default;
};

// {"mac":{"k":b64,"r":b64},"encrypt":b64}
std::string EncodeMasterKey(const MasterKey& key);
// kInvalid when a part is missing or has the wrong length.
Result<MasterKey> DecodeMasterKey(std::string_view json);

}  // namespace stash::format
