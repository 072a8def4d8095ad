// The JSON codec of the typed API: how a Kubernetes object's JSON becomes a
// C++ struct and back, without losing anything on the way.
//
//   STASH_ASSIGN_OR_RETURN(Deployment d, FromJson<Deployment>(body));
//   d.spec.replicas = 2;
//   json out = ToJson(d);       // everything the input had, plus the change
//
// Each struct lists its fields once, in a Visit member (see meta.cc for the
// pattern); the Reader, Writer and zero test below walk that list, so a field
// is named in exactly one place.
//
// Nothing the operator does not model is lost when it writes a user's object
// back: every struct keeps, in `extra`, (1) the JSON members it has no field
// for, verbatim (a Deployment's strategy, a container's probes, managedFields
// ...), and (2) which modelled members were present with their zero value
// (`paused: false`, `env: []`, `emptyDir: {}`). We preserve per level rather
// than write with patches because the operator writes whole objects (a
// workload update with the sidecar, a Lease renewal) and the pod template's
// hash - hence the pods' names - is computed over the template: a member
// dropped or added by a round trip would restart the user's pods.
//
// Emission rules (mirroring Go's encoding/json with `omitempty`):
//  - a plain member (string, number, bool, list, map, struct) is written when
//    it is non-zero, or when the input had it with its zero value;
//  - std::optional<T> (Go's pointers) is written exactly when it holds a value,
//    zero included (`suspend: false`, `restartCount`-like counters);
//  - a member visited with Emit::kAlways (Go fields without omitempty, e.g. a
//    container status' `ready`) is always written.
// A JSON null reads as absent, as the apiserver treats it.
//
// Errors name the member: `spec.template.spec.containers[1].env[0].name:
// expected a string, got number`.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::apis {

using json = nlohmann::json;

// Where in a document a value sits; rendered only for error messages.
class Path {
 public:
  Path() = default;
  Path Field(std::string_view key) const { return Path(this, key, kField); }
  Path Index(size_t i) const { return Path(this, {}, kIndex, i); }
  Path Key(std::string_view key) const { return Path(this, key, kKey); }
  // "spec.containers[0].env[2].name", "metadata.labels[app]"; "" at the root.
  std::string ToString() const;

 private:
  enum Kind { kRoot, kField, kIndex, kKey };
  Path(const Path* parent, std::string_view key, Kind kind, size_t index = 0)
      : parent_(parent), key_(key), kind_(kind), index_(index) {}
  const Path* parent_ = nullptr;
  std::string_view key_;
  Kind kind_ = kRoot;
  size_t index_ = 0;
};

// "<path>: <what>" as kInvalid (the root path prints no prefix).
Status FieldError(const Path& path, std::string_view what);

// What an object carries beyond its modelled fields (see the header comment).
struct Extra {
  json fields;                               // unmodelled members; null when none
  std::set<std::string, std::less<>> zeros;  // modelled members present with zero value
  friend bool operator==(const Extra&, const Extra&) = default;
};

// Bytes of a Go []byte field (Secret data): base64 in JSON, raw here.
struct Bytes : std::string {
  using std::string::string;
  Bytes(std::string s) : std::string(std::move(s)) {}  // NOLINT: implicit, as a string
};

enum class Emit { kOmitZero, kAlways };

// --- leaf values
Status DecodeField(const json& j, const Path& p, std::string* out);
Status DecodeField(const json& j, const Path& p, bool* out);
Status DecodeField(const json& j, const Path& p, int32_t* out);
Status DecodeField(const json& j, const Path& p, int64_t* out);
Status DecodeField(const json& j, const Path& p, double* out);
Status DecodeField(const json& j, const Path& p, json* out);  // any value, verbatim
Status DecodeField(const json& j, const Path& p, Bytes* out);
inline json EncodeField(const std::string& v) { return v; }
inline json EncodeField(bool v) { return v; }
inline json EncodeField(int32_t v) { return v; }
inline json EncodeField(int64_t v) { return v; }
inline json EncodeField(double v) { return v; }
inline json EncodeField(const json& v) { return v; }
json EncodeField(const Bytes& v);
inline bool IsZeroField(const std::string& v) { return v.empty(); }
inline bool IsZeroField(bool v) { return !v; }
inline bool IsZeroField(int32_t v) { return v == 0; }
inline bool IsZeroField(int64_t v) { return v == 0; }
inline bool IsZeroField(double v) { return v == 0; }
inline bool IsZeroField(const json& v) { return v.is_null(); }

// --- containers (declared first so they nest in any order)
template <class T>
Status DecodeField(const json& j, const Path& p, std::vector<T>* out);
template <class T>
Status DecodeField(const json& j, const Path& p, std::map<std::string, T>* out);
template <class T>
Status DecodeField(const json& j, const Path& p, std::optional<T>* out);
template <class T>
json EncodeField(const std::vector<T>& v);
template <class T>
json EncodeField(const std::map<std::string, T>& v);
template <class T>
json EncodeField(const std::optional<T>& v);
template <class T>
bool IsZeroField(const std::vector<T>& v) {
  return v.empty();
}
template <class T>
bool IsZeroField(const std::map<std::string, T>& v) {
  return v.empty();
}
template <class T>
bool IsZeroField(const std::optional<T>& v) {
  return !v.has_value();
}

// Name of a JSON value's type for messages ("string", "number", "object"...).
std::string_view JsonTypeName(const json& j);

template <class T>
Status DecodeField(const json& j, const Path& p, std::vector<T>* out) {
  if (!j.is_array()) return FieldError(p, "expected a list, got " + std::string(JsonTypeName(j)));
  out->clear();
  out->resize(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (j[i].is_null()) continue;  // a null element reads as the zero value
    STASH_RETURN_IF_ERROR(DecodeField(j[i], p.Index(i), &(*out)[i]));
  }
  return Status::Ok();
}

template <class T>
Status DecodeField(const json& j, const Path& p, std::map<std::string, T>* out) {
  if (!j.is_object())
    return FieldError(p, "expected an object, got " + std::string(JsonTypeName(j)));
  out->clear();
  for (const auto& [k, v] : j.items()) {
    T value{};
    if (!v.is_null()) STASH_RETURN_IF_ERROR(DecodeField(v, p.Key(k), &value));
    out->emplace(k, std::move(value));
  }
  return Status::Ok();
}

template <class T>
Status DecodeField(const json& j, const Path& p, std::optional<T>* out) {
  out->emplace();
  return DecodeField(j, p, &**out);
}

template <class T>
json EncodeField(const std::vector<T>& v) {
  json out = json::array();
  for (const T& e : v) out.push_back(EncodeField(e));
  return out;
}

template <class T>
json EncodeField(const std::map<std::string, T>& v) {
  json out = json::object();
  for (const auto& [k, e] : v) out[k] = EncodeField(e);
  return out;
}

template <class T>
json EncodeField(const std::optional<T>& v) {
  return v ? EncodeField(*v) : json();
}

// --- struct visitors (used by STASH_APIS_DEFINE_CODEC in the .cc files)

// Reads the members a struct's Visit names; the rest go to `extra->fields`.
class Reader {
 public:
  Reader(const json& obj, const Path& path, Extra* extra) : obj_(obj), path_(path), extra_(extra) {}

  template <class T>
  void operator()(const char* key, T& field, Emit emit = Emit::kOmitZero) {
    if (!status_.ok()) return;
    auto it = obj_.find(key);
    if (it == obj_.end()) return;
    consumed_.push_back(key);
    if (it->is_null()) return;
    status_ = DecodeField(*it, path_.Field(key), &field);
    if (status_.ok() && emit == Emit::kOmitZero && IsZeroField(field)) extra_->zeros.emplace(key);
  }

  // Moves the members nobody consumed into extra->fields.
  Status Finish();

 private:
  const json& obj_;
  const Path& path_;
  Extra* extra_;
  std::vector<std::string_view> consumed_;
  Status status_;
};

// Writes a struct's members by the emission rules, over its unmodelled ones.
class Writer {
 public:
  Writer(json* out, const Extra& extra) : out_(out), extra_(extra) {}

  template <class T>
  void operator()(const char* key, const T& field, Emit emit = Emit::kOmitZero) {
    if (emit == Emit::kAlways || !IsZeroField(field) || extra_.zeros.count(key)) {
      (*out_)[key] = EncodeField(field);
    }
  }

 private:
  json* out_;
  const Extra& extra_;
};

// True while every member visited is zero.
class ZeroTest {
 public:
  template <class T>
  void operator()(const char*, const T& field, Emit = Emit::kOmitZero) {
    if (zero_ && !IsZeroField(field)) zero_ = false;
  }
  bool zero() const { return zero_; }

 private:
  bool zero_ = true;
};

// Decodes `j` (a JSON object) into `out`, whose Visit lists its members.
template <class T>
Status DecodeStruct(const json& j, const Path& p, T* out) {
  if (!j.is_object())
    return FieldError(p, "expected an object, got " + std::string(JsonTypeName(j)));
  *out = T{};
  Reader r(j, p, &out->extra);
  out->Visit(r);
  return r.Finish();
}

template <class T>
json EncodeStruct(const T& v) {
  json out = v.extra.fields.is_object() ? v.extra.fields : json::object();
  Writer w(&out, v.extra);
  const_cast<T&>(v).Visit(w);  // Visit takes references; the Writer only reads them
  return out;
}

template <class T>
bool IsZeroStruct(const T& v) {
  if (!v.extra.fields.is_null() && !v.extra.fields.empty()) return false;
  ZeroTest z;
  const_cast<T&>(v).Visit(z);
  return z.zero();
}

// The JSON merge patch (RFC 7386) that turns `from` into `to`: changed and
// added members, null for removed ones, lists whole; an empty object when
// they are equal. With `from` = ToJson(what the server has) and `to` =
// ToJson(it changed), a writer sends only what it changed, and a member it
// cleared is removed (a plain ToJson would omit it and leave it as it was).
json MergePatchDiff(const json& from, const json& to);

// Public entry points: a whole object (or any struct of this layer).
template <class T>
Result<T> FromJson(const json& j) {
  T out;
  STASH_RETURN_IF_ERROR(DecodeField(j, Path(), &out));
  return out;
}

template <class T>
json ToJson(const T& v) {
  return EncodeField(v);
}

}  // namespace stash::apis

// The usual members of a struct of this layer: its extras, the Visit that
// lists its fields (defined in the .cc beside STASH_APIS_DEFINE_CODEC), and
// member-wise equality.
#define STASH_APIS_STRUCT(T) \
  Extra extra;               \
  template <class V>         \
  void Visit(V& v);          \
  friend bool operator==(const T&, const T&) = default

// Declares the codec of a struct type (in a header, inside namespace
// stash::apis); STASH_APIS_DEFINE_CODEC defines it where Visit is defined.
#define STASH_APIS_DECLARE_CODEC(T)                                  \
  ::stash::Status DecodeField(const json& j, const Path& p, T* out); \
  json EncodeField(const T& v);                                      \
  bool IsZeroField(const T& v)

#define STASH_APIS_DEFINE_CODEC(T)                                    \
  ::stash::Status DecodeField(const json& j, const Path& p, T* out) { \
    return DecodeStruct(j, p, out);                                   \
  }                                                                   \
  json EncodeField(const T& v) { return EncodeStruct(v); }            \
  bool IsZeroField(const T& v) { return IsZeroStruct(v); }            \
  static_assert(true, "")
