// Private to protobuf.cc: field tables of the protobuf messages the decoder
// knows (numbers and JSON names from k8s.io/api and k8s.io/apimachinery
// generated.proto), parsed once from the compact text in
// protobuf_messages.cc and protobuf_schema.cc.
//
// Thread-safety: the registry is built once (function-local static) and is
// immutable afterwards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stash::api::pb {

enum class FieldKind {
  kString,
  kBytes,  // base64 in JSON
  kBool,
  kInt,  // any varint integer (int32/int64)
  kMessage,
  kStringMap,    // map<string, string>
  kBytesMap,     // map<string, bytes>: base64 values
  kQuantityMap,  // map<string, resource.Quantity>: string values
  kTime,         // meta.v1.Time {seconds, nanos}: RFC 3339
  kMicroTime,    // meta.v1.MicroTime: RFC 3339 with microseconds
  kQuantity,     // resource.Quantity {string}: its string
  kIntOrString,  // util.intstr.IntOrString
};

struct MessageDesc;

struct FieldDesc {
  int number = 0;
  std::string name;  // the JSON name
  FieldKind kind = FieldKind::kString;
  bool repeated = false;
  // Pointer fields (replicas, suspend, ...): present means set, even when
  // zero. Other scalars follow Go's omitempty.
  bool keep_zero = false;
  // Go embedded structs (Volume's VolumeSource, ...): the message's fields
  // appear directly in the parent's JSON.
  bool inlined = false;
  std::string message_name;
  const MessageDesc* message = nullptr;  // null: an unknown message, skipped
};

struct MessageDesc {
  std::string name;
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

// The compact table text of protobuf_messages.cc.
std::string_view WorkloadMessages();
std::string_view AuthMessages();  // protobuf_auth_messages.cc

}  // namespace stash::api::pb
