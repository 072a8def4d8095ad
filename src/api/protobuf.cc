// A small table-driven decoder for the Kubernetes protobuf encoding
// (k8s.io/api .../generated.proto, proto2 wire format) into the JSON shape the
// same object has in kubectl's JSON requests.
#include "stash/api/protobuf.h"

#include <cstdint>
#include <string>
#include <vector>

#include "decode.h"
#include "protobuf_schema.h"
#include "stash/api/table.h"
#include "stash/core/base64.h"

namespace stash::api {
namespace {

using json = nlohmann::json;
using pb::FieldDesc;
using pb::FieldKind;
using pb::MessageDesc;

constexpr std::string_view kMagic("k8s\0", 4);
constexpr int kMaxDepth = 64;
// Values decoded from one body (each costs a JSON node): repeated empty
// messages take two bytes each, so a 3 MiB body could otherwise build
// 1.5 million objects.
constexpr size_t kMaxDecodedValues = 300000;
thread_local size_t decoded_values = 0;

// Reads the protobuf wire format; every read checks bounds.
class Reader {
 public:
  Reader(std::string_view data, std::string_view what) : data_(data), what_(what) {}
  bool done() const { return pos_ >= data_.size(); }

  Result<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Error("truncated varint");
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      value |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    return Error("varint longer than 10 bytes");
  }

  Result<std::string_view> Bytes() {
    STASH_ASSIGN_OR_RETURN(uint64_t len, Varint());
    if (len > data_.size() - pos_) return Error("length " + std::to_string(len) + " past the end");
    std::string_view out = data_.substr(pos_, len);
    pos_ += len;
    return out;
  }

  Status Skip(int wire) {
    switch (wire) {
      case 0:
        return Varint().status();
      case 1:
        return Advance(8);
      case 2:
        return Bytes().status();
      case 5:
        return Advance(4);
      default:
        return Error("unsupported wire type " + std::to_string(wire));
    }
  }

  Status Error(const std::string& problem) const {
    return InvalidError("the protobuf request body is malformed: " + problem + " at byte " +
                        std::to_string(pos_) + " of " + std::string(what_) +
                        "; send the object as JSON (Content-Type: application/json) instead");
  }

 private:
  Status Advance(size_t n) {
    if (n > data_.size() - pos_) return Error("fixed-size field past the end");
    pos_ += n;
    return Status::Ok();
  }

  std::string_view data_;
  std::string_view what_;
  size_t pos_ = 0;
};

Result<json> DecodeMessage(std::string_view bytes, const MessageDesc& desc, int depth);

// Decodes the few well-known wrapper messages into their JSON forms.
Result<json> DecodeSpecial(std::string_view bytes, FieldKind kind, std::string_view what) {
  Reader r(bytes, what);
  int64_t seconds = 0, nanos = 0, type = 0, int_val = 0;
  std::string str;
  while (!r.done()) {
    STASH_ASSIGN_OR_RETURN(uint64_t key, r.Varint());
    int number = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (wire == 0 && (number == 1 || number == 2)) {
      STASH_ASSIGN_OR_RETURN(uint64_t v, r.Varint());
      if (kind == FieldKind::kTime || kind == FieldKind::kMicroTime) {
        (number == 1 ? seconds : nanos) = static_cast<int64_t>(v);
      }
      if (kind == FieldKind::kIntOrString) (number == 1 ? type : int_val) = static_cast<int64_t>(v);
    } else if (wire == 2 && ((kind == FieldKind::kQuantity && number == 1) ||
                             (kind == FieldKind::kIntOrString && number == 3))) {
      STASH_ASSIGN_OR_RETURN(std::string_view s, r.Bytes());
      str = std::string(s);
    } else {
      STASH_RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  switch (kind) {
    case FieldKind::kTime:
    case FieldKind::kMicroTime: {
      if (seconds == 0 && nanos == 0) return json();
      SystemTime t{std::chrono::duration_cast<SystemTime::duration>(
          std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos))};
      return kind == FieldKind::kTime ? FormatTimestamp(t) : FormatMicroTimestamp(t);
    }
    case FieldKind::kQuantity:
      return str;
    case FieldKind::kIntOrString:
      return type == 1 ? json(str) : json(static_cast<int32_t>(int_val));
    default:
      return json();
  }
}

Result<json> DecodeMapEntry(std::string_view bytes, FieldKind kind, std::string_view what,
                            std::string& key) {
  Reader r(bytes, what);
  json value = "";
  while (!r.done()) {
    STASH_ASSIGN_OR_RETURN(uint64_t tag, r.Varint());
    int number = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire == 2 && (number == 1 || number == 2)) {
      STASH_ASSIGN_OR_RETURN(std::string_view s, r.Bytes());
      if (number == 1) {
        key = std::string(s);
      } else if (kind == FieldKind::kQuantityMap) {
        STASH_ASSIGN_OR_RETURN(value, DecodeSpecial(s, FieldKind::kQuantity, what));
      } else {
        value = kind == FieldKind::kBytesMap ? Base64Encode(s) : std::string(s);
      }
    } else {
      STASH_RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  return value;
}

bool IsZero(const json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_boolean() && !v.get<bool>()) || (v.is_number_integer() && v.get<int64_t>() == 0);
}

Result<json> DecodeField(Reader& r, const FieldDesc& f, int wire, std::string_view what, int depth,
                         std::string* map_key) {
  const bool varint_kind = f.kind == FieldKind::kBool || f.kind == FieldKind::kInt;
  if (wire != (varint_kind ? 0 : 2)) {
    return r.Error("field " + std::string(f.name) + " has wire type " + std::to_string(wire));
  }
  if (f.kind == FieldKind::kBool) {
    STASH_ASSIGN_OR_RETURN(uint64_t v, r.Varint());
    return v != 0;
  }
  if (f.kind == FieldKind::kInt) {
    STASH_ASSIGN_OR_RETURN(uint64_t v, r.Varint());
    return static_cast<int64_t>(v);
  }
  STASH_ASSIGN_OR_RETURN(std::string_view bytes, r.Bytes());
  switch (f.kind) {
    case FieldKind::kString:
      return std::string(bytes);
    case FieldKind::kBytes:
      return Base64Encode(bytes);
    case FieldKind::kMessage:
      return DecodeMessage(bytes, *f.message, depth + 1);
    case FieldKind::kStringMap:
    case FieldKind::kBytesMap:
    case FieldKind::kQuantityMap:
      return DecodeMapEntry(bytes, f.kind, what, *map_key);
    default:
      return DecodeSpecial(bytes, f.kind, what);
  }
}

Result<json> DecodeMessage(std::string_view bytes, const MessageDesc& desc, int depth) {
  if (depth > kMaxDepth) return InvalidError("the protobuf request body is nested too deeply");
  Reader r(bytes, desc.name);
  json out = json::object();
  while (!r.done()) {
    STASH_ASSIGN_OR_RETURN(uint64_t key, r.Varint());
    const int number = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    const FieldDesc* f = desc.Find(number);
    if (f == nullptr || (f->kind == FieldKind::kMessage && f->message == nullptr)) {
      STASH_RETURN_IF_ERROR(r.Skip(wire));  // a newer field; JSON clients would drop it too
      continue;
    }
    if (++decoded_values > kMaxDecodedValues) {
      return Status(Code::kResourceExhausted,
                    "Request entity too large: the protobuf request body holds more than " +
                        std::to_string(kMaxDecodedValues) + " values (this server's limit)");
    }
    std::string map_key;
    STASH_ASSIGN_OR_RETURN(json value, DecodeField(r, *f, wire, desc.name, depth, &map_key));
    const std::string& name = f->name;
    if (f->inlined && value.is_object()) {
      for (auto& [k, v] : value.items()) out[k] = std::move(v);
    } else if (f->kind == FieldKind::kStringMap || f->kind == FieldKind::kBytesMap ||
               f->kind == FieldKind::kQuantityMap) {
      out[name][map_key] = std::move(value);
    } else if (f->repeated) {
      if (!value.is_null()) out[name].push_back(std::move(value));
    } else if (f->keep_zero ? !value.is_null() : !IsZero(value)) {
      out[name] = std::move(value);
    } else {
      out.erase(name);
    }
  }
  return out;
}

}  // namespace

bool HasProtobufMagic(std::string_view body) { return body.substr(0, kMagic.size()) == kMagic; }

Result<nlohmann::json> DecodeProtobufObject(std::string_view body) {
  if (!HasProtobufMagic(body)) {
    return InvalidError(
        "the request body is not Kubernetes protobuf (it does not start with "
        "\"k8s\\0\"); send JSON or application/vnd.kubernetes.protobuf");
  }
  decoded_values = 0;
  try {
    STASH_ASSIGN_OR_RETURN(json unknown,
                           DecodeMessage(body.substr(kMagic.size()), pb::UnknownDesc(), 0));
    const json type_meta = unknown.value("typeMeta", json::object());
    const std::string api_version = type_meta.value("apiVersion", "");
    const std::string kind = type_meta.value("kind", "");
    if (!unknown.value("contentEncoding", "").empty()) {
      return Status(Code::kUnsupported, "protobuf bodies with contentEncoding \"" +
                                            unknown.value("contentEncoding", "") +
                                            "\" are not supported; send JSON");
    }
    const MessageDesc* desc = pb::KindDesc(kind);
    if (desc == nullptr) {
      return Status(Code::kUnsupported, "this server does not decode protobuf bodies of kind \"" +
                                            kind + "\" (" + api_version +
                                            "); send it as JSON (kubectl --validate=false "
                                            "does not help; use kubectl apply or a JSON client)");
    }
    // The raw object is re-read from the envelope to keep its bytes exact.
    std::string_view raw;
    {
      Reader r(body.substr(kMagic.size()), "runtime.Unknown");
      while (!r.done()) {
        STASH_ASSIGN_OR_RETURN(uint64_t key, r.Varint());
        if (key == ((2 << 3) | 2)) {
          STASH_ASSIGN_OR_RETURN(raw, r.Bytes());
        } else {
          STASH_RETURN_IF_ERROR(r.Skip(static_cast<int>(key & 7)));
        }
      }
    }
    STASH_ASSIGN_OR_RETURN(json object, DecodeMessage(raw, *desc, 0));
    json out = {{"apiVersion", api_version}, {"kind", kind}};
    for (auto& [k, v] : object.items()) out[k] = std::move(v);
    // Protobuf strings are bytes (kube's gogo-generated code does not check
    // them); kube-apiserver's JSON encoder turns invalid UTF-8 into U+FFFD.
    MakeValidUtf8(&out);
    return out;
  } catch (const json::exception& e) {
    return InvalidError(std::string("decoding the protobuf request body failed: ") +
                        ToValidUtf8(e.what()));
  }
}

}  // namespace stash::api
