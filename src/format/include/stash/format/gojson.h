// GoJsonWriter: builds compact JSON byte-for-byte as Go's encoding/json
// (go1.19, restic 0.14's toolchain) marshals structs: no whitespace, fields in
// the order written, Go's string escaping with HTML escapes on.
//
// String escaping (AppendGoJsonString): `"` and `\` backslashed; \n \r \t
// short; other bytes < 0x20 as \u00xx (go1.19 has no short \b \f); `<` `>` `&`
// as \u003c \u003e \u0026; U+2028/U+2029 escaped; each invalid UTF-8 byte as
// \ufffd; DEL and valid non-ASCII raw.
//
// The writer does not validate nesting; callers emit well-formed sequences
// (every Key followed by exactly one value).
//
// Thread-safety: a GoJsonWriter is not thread-safe; use one per document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/format/time.h"

namespace stash::format {

// Appends s as a JSON string literal (with quotes) to *out.
void AppendGoJsonString(std::string* out, std::string_view s);
// Appends a float64 as Go's encoding/json writes it: the shortest digits
// that read back to v, plain from 1e-6 to 1e21, else exponent form
// ("1e-7", "1e+21").
void AppendGoJsonFloat(std::string* out, double v);

class GoJsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // Writes `"key":`; the next call writes the value.
  void Key(std::string_view key);

  void String(std::string_view s);
  void Uint(uint64_t v);
  void Int(int64_t v);
  void Float(double v);
  void Bool(bool v);
  void Null();
  // An already-encoded JSON value, written verbatim.
  void Raw(std::string_view json);
  // A string known to need no escaping (times, hex ids), quoted verbatim.
  void PlainString(std::string_view s);
  // Shorthands for the two most common restic values.
  void Time(const Timestamp& t);
  void IdHex(const Id& id);
  // `"key":value` in one call, for the common value kinds.
  void StringField(std::string_view key, std::string_view v) { Key(key), String(v); }
  void IntField(std::string_view key, int64_t v) { Key(key), Int(v); }
  void UintField(std::string_view key, uint64_t v) { Key(key), Uint(v); }
  void FloatField(std::string_view key, double v) { Key(key), Float(v); }
  void BoolField(std::string_view key, bool v) { Key(key), Bool(v); }
  void TimeField(std::string_view key, const Timestamp& t) { Key(key), Time(t); }
  void IdField(std::string_view key, const Id& id) { Key(key), IdHex(id); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open object/array: whether it has no element yet.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace stash::format
