#include "stash/format/base64.h"

#include <array>

namespace stash::format {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeReverse() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr std::array<int8_t, 256> kReverse = MakeReverse();

std::string EncodeBytes(const uint8_t* p, size_t n) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = n - i; rest > 0) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (rest == 2) v |= uint32_t{p[i + 1]} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> data) {
  return EncodeBytes(data.data(), data.size());
}

std::string Base64Encode(std::string_view data) {
  return EncodeBytes(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

Result<std::string> Base64DecodeToString(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t quantum = 0;
  int have = 0;     // sextets collected in the current quantum
  int padding = 0;  // '=' seen in the current quantum
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      // Padding may only complete a quantum that has 2 or 3 sextets.
      if (have + padding < 2) {
        return InvalidError("base64: misplaced '=' at offset " + std::to_string(i));
      }
      ++padding;
      if (have + padding > 4) {
        return InvalidError("base64: too much padding at offset " + std::to_string(i));
      }
      continue;
    }
    const int8_t v = kReverse[static_cast<uint8_t>(c)];
    if (v < 0 || padding > 0) {
      return InvalidError("base64: illegal character at offset " + std::to_string(i));
    }
    quantum = (quantum << 6) | static_cast<uint32_t>(v);
    if (++have == 4) {
      out += static_cast<char>(quantum >> 16);
      out += static_cast<char>(quantum >> 8);
      out += static_cast<char>(quantum);
      quantum = 0;
      have = 0;
    }
  }
  if (have == 0 && padding == 0) return out;
  if (have + padding != 4) return InvalidError("base64: truncated input");
  if (have == 2) {
    out += static_cast<char>(quantum >> 4);
  } else {  // have == 3
    out += static_cast<char>(quantum >> 10);
    out += static_cast<char>(quantum >> 2);
  }
  return out;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  STASH_ASSIGN_OR_RETURN(std::string bytes, Base64DecodeToString(text));
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace stash::format
