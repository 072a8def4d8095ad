#include "json_scan.h"

#include <limits>

#include "stash/core/base64.h"
#include "stash/format/goquote.h"

namespace stash::format::internal {
namespace {

// Deep nesting only appears in hostile input; restic documents nest < 10.
constexpr int kMaxDepth = 200;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status JsonScanner::Error(std::string_view what) const {
  return InvalidError("cannot parse " + std::string(doc_) + " JSON at byte " +
                      std::to_string(pos_) + ": " + std::string(what));
}

void JsonScanner::SkipSpace() {
  while (pos_ < s_.size()) {
    const char c = s_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    ++pos_;
  }
}

Status JsonScanner::Expect(char c) {
  SkipSpace();
  if (pos_ >= s_.size()) return Error(std::string("unexpected end, expected '") + c + "'");
  if (s_[pos_] != c) return Error(std::string("expected '") + c + "'");
  ++pos_;
  return Status::Ok();
}

Status JsonScanner::Open(char c) {
  STASH_RETURN_IF_ERROR(Expect(c));
  if (++depth_ > kMaxDepth) return Error("nesting too deep");
  first_ = true;
  return Status::Ok();
}

Result<bool> JsonScanner::More(char close) {
  SkipSpace();
  if (pos_ < s_.size() && s_[pos_] == close) {
    ++pos_;
    --depth_;
    first_ = false;
    return false;
  }
  if (!first_) STASH_RETURN_IF_ERROR(Expect(','));
  first_ = false;
  return true;
}

Status JsonScanner::BeginObject() { return Open('{'); }

Result<bool> JsonScanner::NextKey(std::string* key) {
  STASH_ASSIGN_OR_RETURN(bool more, More('}'));
  if (!more) return false;
  STASH_RETURN_IF_ERROR(String(key));
  STASH_RETURN_IF_ERROR(Expect(':'));
  return true;
}

Status JsonScanner::BeginArray() { return Open('['); }

Result<bool> JsonScanner::NextElement() { return More(']'); }

bool JsonScanner::TryNull() {
  SkipSpace();
  if (s_.substr(pos_, 4) != "null") return false;
  pos_ += 4;
  return true;
}

bool JsonScanner::PeekObject() {
  SkipSpace();
  return pos_ < s_.size() && s_[pos_] == '{';
}

bool JsonScanner::Hex4(size_t at, char32_t* v) const {
  if (at + 4 > s_.size()) return false;
  *v = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int h = Hex(s_[at + k]);
    if (h < 0) return false;
    *v = (*v << 4) | static_cast<char32_t>(h);
  }
  return true;
}

Status JsonScanner::UnicodeEscape(std::string* out) {
  char32_t r;
  if (!Hex4(pos_, &r)) return Error("bad \\u escape");
  pos_ += 4;
  if (r >= 0xD800 && r < 0xDC00) {
    // A high surrogate needs a following low one; else U+FFFD, as Go.
    char32_t lo;
    if (s_.substr(pos_, 2) == "\\u" && Hex4(pos_ + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
      r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
      pos_ += 6;
    } else {
      r = 0xFFFD;
    }
  } else if (r >= 0xDC00 && r < 0xE000) {
    r = 0xFFFD;
  }
  AppendUtf8(out, r);
  return Status::Ok();
}

std::string_view JsonScanner::Found() {
  SkipSpace();
  if (pos_ >= s_.size()) return "the end of the document";
  switch (s_[pos_]) {
    case '"':
      return "a string";
    case '{':
      return "an object";
    case '[':
      return "an array";
    case 't':
    case 'f':
      return "a boolean";
    case 'n':
      return "null";
    default:
      return (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) ? "a number"
                                                                       : "an invalid token";
  }
}

Status JsonScanner::String(std::string* out) {
  SkipSpace();
  if (pos_ >= s_.size() || s_[pos_] != '"') {
    return Error("want a string, got " + std::string(Found()));
  }
  ++pos_;
  out->clear();
  size_t run = pos_;  // start of bytes to copy verbatim
  while (true) {
    if (pos_ >= s_.size()) return Error("unterminated string");
    const uint8_t c = static_cast<uint8_t>(s_[pos_]);
    if (c == '"') {
      out->append(s_.substr(run, pos_ - run));
      ++pos_;
      return Status::Ok();
    }
    if (c < 0x20) return Error("control character in string");
    if (c >= 0x80) {
      size_t width;
      GoDecodeRune(s_.substr(pos_), &width);
      if (width == 1) {  // invalid UTF-8: Go substitutes U+FFFD
        out->append(s_.substr(run, pos_ - run));
        out->append("\xef\xbf\xbd");
        run = ++pos_;
      } else {
        pos_ += width;
      }
      continue;
    }
    if (c != '\\') {
      ++pos_;
      continue;
    }
    out->append(s_.substr(run, pos_ - run));
    if (pos_ + 1 >= s_.size()) return Error("unterminated escape");
    const char e = s_[pos_ + 1];
    pos_ += 2;
    // The one-character escapes and what they stand for.
    static constexpr std::string_view kEscapes = "\"\"\\\\//b\bf\fn\nr\rt\t";
    const size_t at = kEscapes.find(e);
    if (at != std::string_view::npos && at % 2 == 0) {
      out->push_back(kEscapes[at + 1]);
      run = pos_;
      continue;
    }
    if (e != 'u') return Error(std::string("invalid escape \\") + e);
    STASH_RETURN_IF_ERROR(UnicodeEscape(out));
    run = pos_;
  }
}

Status JsonScanner::Number(bool* negative, uint64_t* magnitude) {
  SkipSpace();
  if (pos_ >= s_.size() || (s_[pos_] != '-' && (s_[pos_] < '0' || s_[pos_] > '9'))) {
    return Error("want a number, got " + std::string(Found()));
  }
  *negative = false;
  if (pos_ < s_.size() && s_[pos_] == '-') {
    *negative = true;
    ++pos_;
  }
  const size_t start = pos_;
  uint64_t v = 0;
  bool overflow = false;
  while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
    const uint64_t d = static_cast<uint64_t>(s_[pos_] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
    v = v * 10 + d;
    ++pos_;
  }
  if (pos_ == start) return Error("expected a number");
  if (s_[start] == '0' && pos_ - start > 1) return Error("number with leading zero");
  if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
    return Error("want an integer, got a fraction or an exponent");
  }
  if (overflow) return Error("integer out of range");
  *magnitude = v;
  return Status::Ok();
}

Status JsonScanner::Uint(uint64_t max, uint64_t* out) {
  bool negative = false;
  uint64_t v = 0;
  STASH_RETURN_IF_ERROR(Number(&negative, &v));
  if (negative && v != 0) return Error("negative value for an unsigned field");
  if (v > max) return Error("integer out of range");
  *out = v;
  return Status::Ok();
}

Status JsonScanner::Int(int64_t* out) {
  bool negative = false;
  uint64_t v = 0;
  STASH_RETURN_IF_ERROR(Number(&negative, &v));
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + negative;
  if (v > limit) return Error("integer out of range");
  *out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return Status::Ok();
}

Status JsonScanner::Literal(std::string_view word) {
  SkipSpace();
  if (s_.substr(pos_, word.size()) != word) return Error("unexpected token");
  pos_ += word.size();
  return Status::Ok();
}

Status JsonScanner::Bool(bool* out) {
  SkipSpace();
  if (s_.substr(pos_, 4) == "true") {
    pos_ += 4;
    *out = true;
    return Status::Ok();
  }
  STASH_RETURN_IF_ERROR(Literal("false"));
  *out = false;
  return Status::Ok();
}

Status JsonScanner::Skip() {
  SkipSpace();
  if (pos_ >= s_.size()) return Error("unexpected end, expected a value");
  std::string scratch;
  switch (s_[pos_]) {
    case '{':
      STASH_RETURN_IF_ERROR(BeginObject());
      while (true) {
        STASH_ASSIGN_OR_RETURN(bool more, NextKey(&scratch));
        if (!more) return Status::Ok();
        STASH_RETURN_IF_ERROR(Skip());
      }
    case '[':
      return Array([&] { return Skip(); });
    case '"':
      return String(&scratch);
    case 't':
      return Literal("true");
    case 'f':
      return Literal("false");
    case 'n':
      return Literal("null");
    default: {
      // Any JSON number, fraction and exponent included.
      if (s_[pos_] == '-') ++pos_;
      if (Digits() == 0) return Error("unexpected character");
      if (pos_ < s_.size() && s_[pos_] == '.') {
        ++pos_;
        if (Digits() == 0) return Error("bad number");
      }
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        ++pos_;
        if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
        if (Digits() == 0) return Error("bad number");
      }
      return Status::Ok();
    }
  }
}

Status JsonScanner::U32(uint32_t* out) {
  uint64_t v = 0;
  STASH_RETURN_IF_ERROR(Uint(UINT32_MAX, &v));
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status JsonScanner::Time(Timestamp* out) { return StringAs(out, ParseRfc3339); }

Status JsonScanner::IdValue(Id* out) { return StringAs(out, Id::FromHex); }

Status JsonScanner::Base64(std::string* out) {
  return StringAs(out, [](std::string_view text) { return Base64Decode(text); });
}

Status JsonScanner::StringList(std::vector<std::string>* out) {
  out->clear();
  return Array([&] {
    out->emplace_back();
    return TryNull() ? Status::Ok() : String(&out->back());
  });
}

Status JsonScanner::IdList(std::vector<Id>* out) {
  out->clear();
  return Array([&] {
    out->emplace_back();
    return IdValue(&out->back());
  });
}

size_t JsonScanner::Digits() {
  const size_t start = pos_;
  while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
  return pos_ - start;
}

Status JsonScanner::Finish() {
  SkipSpace();
  if (pos_ != s_.size()) return Error("unexpected data after the document");
  return Status::Ok();
}

}  // namespace stash::format::internal
