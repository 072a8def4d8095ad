// Private to protobuf.cc: field tables of the protobuf messages the decoder
// knows (numbers and JSON names from k8s.io/api and k8s.io/apimachinery
// generated.proto).
//
// Thread-safety: the tables are immutable function-local statics.
#pragma once

#include <string_view>
#include <vector>

namespace stash::api::pb {

enum class FieldKind {
  kString,
  kBytes,        // base64 in JSON
  kBool,
  kInt,          // any varint integer (int32/int64)
  kMessage,
  kStringMap,    // map<string, string>
  kBytesMap,     // map<string, bytes>: base64 values
  kTime,         // meta.v1.Time {seconds, nanos}: RFC 3339
  kQuantity,     // resource.Quantity {string}: its string
  kIntOrString,  // util.intstr.IntOrString
};

struct MessageDesc;

struct FieldDesc {
  int number;
  std::string_view name;  // the JSON name
  FieldKind kind;
  bool repeated = false;
  const MessageDesc* (*message)() = nullptr;
  // Pointer fields (replicas, suspend, ...): present means set, even when
  // zero. Other scalars follow Go's omitempty.
  bool keep_zero = false;
};

struct MessageDesc {
  std::string_view name;
  std::vector<FieldDesc> fields;
  const FieldDesc* Find(int number) const {
    for (const FieldDesc& f : fields) {
      if (f.number == number) return &f;
    }
    return nullptr;
  }
};

// runtime.Unknown without its raw bytes (the decoder reads them itself).
const MessageDesc& UnknownDesc();
// The top-level message of `kind`, or nullptr when the kind is not decoded.
const MessageDesc* KindDesc(std::string_view kind);

}  // namespace stash::api::pb
