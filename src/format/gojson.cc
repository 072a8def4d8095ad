#include "stash/format/gojson.h"

#include <charconv>
#include <cmath>

#include "stash/format/goquote.h"

namespace stash::format {

void AppendGoJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t start = 0;  // beginning of the pending run of raw bytes
  size_t i = 0;
  const auto flush = [&] { out->append(s.substr(start, i - start)); };
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      const bool safe = b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&';
      if (safe) {
        ++i;
        continue;
      }
      flush();
      switch (b) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        default:
          // go1.19 writes \b and \f in this long form too.
          *out += "\\u00";
          out->push_back(kHex[b >> 4]);
          out->push_back(kHex[b & 0xF]);
      }
      start = ++i;
      continue;
    }
    size_t width;
    const char32_t r = GoDecodeRune(s.substr(i), &width);
    if (width == 1) {  // invalid UTF-8 byte
      flush();
      *out += "\\ufffd";
      start = ++i;
      continue;
    }
    if (r == 0x2028 || r == 0x2029) {
      flush();
      *out += r == 0x2028 ? "\\u2028" : "\\u2029";
      start = i += width;
      continue;
    }
    i += width;
  }
  flush();
  out->push_back('"');
}

void AppendGoJsonFloat(std::string* out, double v) {
  char buf[64];
  const double a = std::abs(v);
  if (v == 0) {
    out->push_back('0');
    return;
  }
  if (a >= 1e-6 && a < 1e21) {
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out->append(buf, res.ptr);
    return;
  }
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  // Go cleans "e-07" up to "e-7".
  const size_t n = s.size();
  if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  out->append(s);
}

void GoJsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

void GoJsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  first_.push_back(true);
}

void GoJsonWriter::EndObject() {
  out_.push_back('}');
  first_.pop_back();
}

void GoJsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  first_.push_back(true);
}

void GoJsonWriter::EndArray() {
  out_.push_back(']');
  first_.pop_back();
}

void GoJsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendGoJsonString(&out_, key);
  out_.push_back(':');
  after_key_ = true;
}

void GoJsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendGoJsonString(&out_, s);
}

void GoJsonWriter::Float(double v) {
  BeforeValue();
  AppendGoJsonFloat(&out_, v);
}

void GoJsonWriter::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, res.ptr);
}

void GoJsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, res.ptr);
}

void GoJsonWriter::Bool(bool v) {
  BeforeValue();
  out_ += v ? "true" : "false";
}

void GoJsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}

void GoJsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_.append(json);
}

void GoJsonWriter::PlainString(std::string_view s) {
  BeforeValue();
  out_.push_back('"');
  out_.append(s);
  out_.push_back('"');
}

void GoJsonWriter::Time(const Timestamp& t) {
  char buf[kMaxRfc3339Size];
  PlainString(std::string_view(buf, FormatRfc3339NanoTo(t, buf)));
}

void GoJsonWriter::IdHex(const Id& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[2 * Id::kSize];
  for (size_t i = 0; i < Id::kSize; ++i) {
    buf[2 * i] = kHex[id.data()[i] >> 4];
    buf[2 * i + 1] = kHex[id.data()[i] & 0xF];
  }
  PlainString(std::string_view(buf, sizeof buf));
}

}  // namespace stash::format
