// Id: a 32-byte identifier (a SHA-256 digest) as used for restic blobs, packs,
// index, snapshot, key and lock files, and printed as 64 lowercase hex digits.
//
// Thread-safety: a value type.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash {

class Id {
 public:
  static constexpr size_t kSize = 32;

  Id() : bytes_{} {}
  explicit Id(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}
  static Id FromBytes(const uint8_t* p) {
    Id id;
    std::memcpy(id.bytes_.data(), p, kSize);
    return id;
  }
  // Parses exactly 64 hex digits (either case).
  static Result<Id> FromHex(std::string_view hex);

  std::string Hex() const;
  // First 8 hex digits, as restic's short ids.
  std::string ShortHex() const { return Hex().substr(0, 8); }
  bool IsZero() const;

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

  friend auto operator<=>(const Id&, const Id&) = default;
  friend bool operator==(const Id&, const Id&) = default;

 private:
  std::array<uint8_t, kSize> bytes_;
};

struct IdHash {
  size_t operator()(const Id& id) const {
    // The id is already a uniform hash; any 8 bytes of it are a good hash.
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};

// Lowercase hex of arbitrary bytes, and its inverse.
std::string HexEncode(const uint8_t* data, size_t size);
Result<std::string> HexDecode(std::string_view hex);

}  // namespace stash

template <>
struct std::hash<stash::Id> {
  size_t operator()(const stash::Id& id) const { return stash::IdHash{}(id); }
};
