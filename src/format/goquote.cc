#include "stash/format/goquote.h"

#include <algorithm>
#include <iterator>

namespace stash::format {
namespace {

struct RuneRange {
  char32_t lo;
  char32_t hi;
};

constexpr RuneRange kPrintRanges[] = {
#include "isprint_table.inc"
};

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char32_t kRuneError = 0xFFFD;

void AppendHex(std::string* out, uint32_t v, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out->push_back(kLowerHex[(v >> shift) & 0xF]);
  }
}

bool ValidRune(char32_t r) { return r < 0xD800 || (r > 0xDFFF && r <= 0x10FFFF); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool GoIsPrint(char32_t rune) {
  // Fast path for ASCII, which is most of every name.
  if (rune < 0x80) return rune >= 0x20 && rune < 0x7F;
  auto it = std::upper_bound(std::begin(kPrintRanges), std::end(kPrintRanges), rune,
                             [](char32_t r, const RuneRange& range) { return r < range.lo; });
  if (it == std::begin(kPrintRanges)) return false;
  return rune <= std::prev(it)->hi;
}

char32_t GoDecodeRune(std::string_view s, size_t* width) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = b(0);
  *width = 1;
  if (b0 < 0x80) return b0;
  // Allowed range of the second byte depends on the first (RFC 3629 table),
  // which excludes overlong forms, surrogates and values above U+10FFFF.
  uint8_t lo = 0x80, hi = 0xBF;
  size_t n;
  char32_t r;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    r = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    r = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return kRuneError;
  }
  if (s.size() < n) return kRuneError;
  if (b(1) < lo || b(1) > hi) return kRuneError;
  r = (r << 6) | (b(1) & 0x3F);
  for (size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return kRuneError;
    r = (r << 6) | (b(i) & 0x3F);
  }
  *width = n;
  return r;
}

bool GoValidUtf8(std::string_view s) {
  size_t width = 1;
  for (size_t i = 0; i < s.size(); i += width) {
    GoDecodeRune(s.substr(i), &width);
    if (width == 1 && static_cast<uint8_t>(s[i]) >= 0x80) return false;
  }
  return true;
}

void AppendUtf8(std::string* out, char32_t r) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

std::string GoQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  size_t width = 1;
  for (size_t i = 0; i < s.size(); i += width) {
    const char32_t r = GoDecodeRune(s.substr(i), &width);
    if (width == 1 && r == kRuneError) {
      out += "\\x";
      AppendHex(&out, static_cast<uint8_t>(s[i]), 2);
      continue;
    }
    if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
      continue;
    }
    if (GoIsPrint(r)) {
      out.append(s.substr(i, width));
      continue;
    }
    switch (r) {
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (r < ' ' || r == 0x7F) {
          out += "\\x";
          AppendHex(&out, r, 2);
        } else if (r < 0x10000) {
          out += "\\u";
          AppendHex(&out, r, 4);
        } else {
          out += "\\U";
          AppendHex(&out, r, 8);
        }
    }
  }
  return out;
}

Result<std::string> GoUnquote(std::string_view s) {
  const auto fail = [&](std::string_view why) {
    return InvalidError("cannot unquote Go string \"" + std::string(s.substr(0, 64)) +
                        "\": " + std::string(why));
  };
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') return fail("unescaped double quote");
    if (c == '\n') return fail("newline inside string");
    if (static_cast<uint8_t>(c) >= 0x80) {
      size_t width;
      const char32_t r = GoDecodeRune(s.substr(i), &width);
      // Go replaces an invalid byte by U+FFFD here; valid runes copy through.
      if (width == 1) {
        AppendUtf8(&out, r);
      } else {
        out.append(s.substr(i, width));
      }
      i += width;
      continue;
    }
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return fail("trailing backslash");
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out.push_back('\a');
        continue;
      case 'b':
        out.push_back('\b');
        continue;
      case 'f':
        out.push_back('\f');
        continue;
      case 'n':
        out.push_back('\n');
        continue;
      case 'r':
        out.push_back('\r');
        continue;
      case 't':
        out.push_back('\t');
        continue;
      case 'v':
        out.push_back('\v');
        continue;
      case '\\':
        out.push_back('\\');
        continue;
      case '"':
        out.push_back('"');
        continue;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > s.size()) return fail("truncated escape");
        uint32_t v = 0;
        for (size_t k = 0; k < n; ++k) {
          const int h = HexValue(s[i + k]);
          if (h < 0) return fail("bad hex digit in escape");
          v = (v << 4) | static_cast<uint32_t>(h);
        }
        i += n;
        if (e == 'x') {
          out.push_back(static_cast<char>(v));  // a single byte, not a rune
        } else {
          if (!ValidRune(v)) return fail("escape is not a valid code point");
          AppendUtf8(&out, v);
        }
        continue;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        if (i + 2 > s.size()) return fail("truncated octal escape");
        uint32_t v = static_cast<uint32_t>(e - '0');
        for (size_t k = 0; k < 2; ++k) {
          const char d = s[i + k];
          if (d < '0' || d > '7') return fail("bad octal digit in escape");
          v = (v << 3) | static_cast<uint32_t>(d - '0');
        }
        if (v > 255) return fail("octal escape above \\377");
        i += 2;
        out.push_back(static_cast<char>(v));
        continue;
      }
      default:
        return fail(std::string("unknown escape \\") + e);
    }
  }
  return out;
}

}  // namespace stash::format
