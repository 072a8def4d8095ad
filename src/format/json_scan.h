// JsonScanner: the pull parser behind every Decode* of this layer. Trees and
// indexes can be tens of MB, where a DOM costs too much: no allocation per
// value, strings decoded into caller-owned buffers.
//
// It follows Go's encoding/json decoding rules that matter for restic
// documents: invalid UTF-8 and lone surrogate escapes become U+FFFD, raw
// control characters inside strings are errors, numbers for integer fields
// must be plain integers in range. Errors are kInvalid and name the document
// and byte offset.
//
// Thread-safety: not thread-safe; one scanner per document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/time.h"

namespace stash::format::internal {

class JsonScanner {
 public:
  JsonScanner(std::string_view text, std::string_view doc) : s_(text), doc_(doc) {}

  // '{' then, per member, NextKey() returns true with the key and the caller
  // reads (or Skip()s) the value; false after the closing '}'.
  Status BeginObject();
  Result<bool> NextKey(std::string* key);
  // '[' then NextElement() is true before each element, false after ']'.
  Status BeginArray();
  Result<bool> NextElement();

  // Consumes a `null` if one comes next.
  bool TryNull();
  // True when the next value is an object ('{'), without consuming it.
  bool PeekObject();

  Status String(std::string* out);
  Status Uint(uint64_t max, uint64_t* out);
  Status Int(int64_t* out);
  Status Bool(bool* out);
  // Typed values of restic documents.
  Status U32(uint32_t* out);
  Status Time(Timestamp* out);
  Status IdValue(Id* out);
  Status Base64(std::string* out);  // decoded bytes
  Status StringList(std::vector<std::string>* out);
  Status IdList(std::vector<Id>* out);

  // Reads an object, calling field(key) for each member; field must consume
  // the value (Skip() what it does not know). Null members are skipped, as Go
  // leaves the field at its zero value. Errors from field are prefixed with
  // the key.
  template <typename F>
  Status Object(F&& field) {
    if (!PeekObject()) return Error("expected an object");
    STASH_RETURN_IF_ERROR(BeginObject());
    std::string key;
    while (true) {
      STASH_ASSIGN_OR_RETURN(bool more, NextKey(&key));
      if (!more) return Status::Ok();
      if (TryNull()) continue;
      Status s = field(key);
      if (!s.ok()) return std::move(s).Prepend("field \"" + key + "\"");
    }
  }

  // A whole document: Object(field), then nothing but whitespace; errors are
  // prefixed with the document's name.
  template <typename F>
  Status Document(F&& field) {
    Status s = Object(std::forward<F>(field));
    if (s.ok()) s = Finish();
    if (!s.ok()) return std::move(s).Prepend(doc_);
    return s;
  }

  // Reads an array, calling element() before each element; element must
  // consume it.
  template <typename F>
  Status Array(F&& element) {
    STASH_RETURN_IF_ERROR(BeginArray());
    while (true) {
      STASH_ASSIGN_OR_RETURN(bool more, NextElement());
      if (!more) return Status::Ok();
      STASH_RETURN_IF_ERROR(element());
    }
  }

  // Any value, validated but discarded.
  Status Skip();
  // Only whitespace may remain.
  Status Finish();

  Status Error(std::string_view what) const;
  // What the next value is ("a string", "a number", "null", ...), for
  // messages that say what was found where something else was wanted.
  std::string_view Found();

 private:
  void SkipSpace();
  Status Expect(char c);
  // Opens an object or array; More() is true before each member or element
  // and false after `close`.
  Status Open(char c);
  Result<bool> More(char close);
  // The 4 hex digits at `at`; false when they are not.
  bool Hex4(size_t at, char32_t* v) const;
  // After "\u": the code point, surrogate pairs joined, as UTF-8.
  Status UnicodeEscape(std::string* out);
  // Skips decimal digits; how many.
  size_t Digits();
  // A string value parsed by `parse` (a Result-returning function).
  template <typename T, typename P>
  Status StringAs(T* out, P parse) {
    STASH_RETURN_IF_ERROR(String(&buf_));
    STASH_ASSIGN_OR_RETURN(*out, parse(buf_));
    return Status::Ok();
  }
  Status Literal(std::string_view word);
  Status Number(bool* negative, uint64_t* magnitude);

  std::string_view s_;
  size_t pos_ = 0;
  std::string buf_;  // scratch for typed values
  std::string_view doc_;
  // Per open container: no element yet.
  bool first_ = false;
  int depth_ = 0;
};

}  // namespace stash::format::internal
