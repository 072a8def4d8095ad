#include "stash/core/id.h"

namespace stash {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string HexEncode(const uint8_t* data, size_t size) {
  std::string out(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHexDigits[data[i] >> 4];
    out[2 * i + 1] = kHexDigits[data[i] & 0xf];
  }
  return out;
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return InvalidError("hex string has odd length " + std::to_string(hex.size()));
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidError("invalid hex digit in \"" + std::string(hex) + "\"");
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

Result<Id> Id::FromHex(std::string_view hex) {
  if (hex.size() != 2 * kSize) {
    return InvalidError("invalid id \"" + std::string(hex) + "\": want 64 hex digits, got " +
                        std::to_string(hex.size()));
  }
  // Straight into the bytes, no string in between: trees carry an id per
  // content chunk, and decoding them took ~5% of a no-change backup.
  uint8_t raw[kSize];
  for (size_t i = 0; i < kSize; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidError("invalid hex digit in \"" + std::string(hex) + "\"");
    raw[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return FromBytes(raw);
}

std::string Id::Hex() const { return HexEncode(bytes_.data(), kSize); }

bool Id::IsZero() const {
  for (uint8_t b : bytes_)
    if (b) return false;
  return true;
}

}  // namespace stash
