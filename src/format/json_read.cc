#include "json_read.h"

#include <limits>

#include "stash/format/base64.h"

namespace stash::format::internal {
namespace {

Status TypeError(std::string_view doc, const char* key, std::string_view want, const Json& got) {
  return InvalidError(std::string(doc) + ": field \"" + key + "\" must be " + std::string(want) +
                      ", got " + got.type_name());
}

// The value for key, or nullptr when absent or null.
const Json* Find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

Result<Json> ParseJson(std::string_view text, std::string_view doc, bool allow_array) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return InvalidError("cannot parse " + std::string(doc) + " JSON: " + e.what());
  }
  if (!j.is_object() && !(allow_array && j.is_array())) {
    return InvalidError(std::string(doc) + ": expected a JSON object, got " + j.type_name());
  }
  return j;
}

Status ExpectObject(const Json& value, std::string_view doc, std::string_view what) {
  if (value.is_object()) return Status::Ok();
  return InvalidError(std::string(doc) + ": " + std::string(what) + " must be an object, got " +
                      value.type_name());
}

Status ReadString(const Json& obj, const char* key, std::string_view doc, std::string* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return TypeError(doc, key, "a string", *v);
  *out = v->get_ref<const std::string&>();
  return Status::Ok();
}

Status ReadUint(const Json& obj, const char* key, std::string_view doc, uint64_t max,
                uint64_t* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > max) {
      return InvalidError(std::string(doc) + ": field \"" + key + "\" value " + std::to_string(u) +
                          " is out of range");
    }
    *out = u;
    return Status::Ok();
  }
  if (v->is_number_integer()) {  // negative
    return InvalidError(std::string(doc) + ": field \"" + key + "\" must not be negative");
  }
  return TypeError(doc, key, "an unsigned integer", *v);
}

Status ReadUint32(const Json& obj, const char* key, std::string_view doc, uint32_t* out) {
  uint64_t v = *out;
  STASH_RETURN_IF_ERROR(ReadUint(obj, key, doc, std::numeric_limits<uint32_t>::max(), &v));
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ReadInt(const Json& obj, const char* key, std::string_view doc, int64_t* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidError(std::string(doc) + ": field \"" + key + "\" is out of range");
    }
    *out = static_cast<int64_t>(u);
    return Status::Ok();
  }
  if (v->is_number_integer()) {
    *out = v->get<int64_t>();
    return Status::Ok();
  }
  return TypeError(doc, key, "an integer", *v);
}

Status ReadBool(const Json& obj, const char* key, std::string_view doc, bool* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) return TypeError(doc, key, "a boolean", *v);
  *out = v->get<bool>();
  return Status::Ok();
}

Status ReadTime(const Json& obj, const char* key, std::string_view doc, Timestamp* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return TypeError(doc, key, "an RFC 3339 time string", *v);
  auto t = ParseRfc3339(v->get_ref<const std::string&>());
  if (!t.ok()) {
    return InvalidError(std::string(doc) + ": field \"" + key + "\": " + t.status().message());
  }
  *out = *t;
  return Status::Ok();
}

Status ReadId(const Json& obj, const char* key, std::string_view doc, Id* out, bool* present) {
  if (present != nullptr) *present = false;
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return TypeError(doc, key, "a hex id string", *v);
  auto id = Id::FromHex(v->get_ref<const std::string&>());
  if (!id.ok()) {
    return InvalidError(std::string(doc) + ": field \"" + key + "\": " + id.status().message());
  }
  *out = *id;
  if (present != nullptr) *present = true;
  return Status::Ok();
}

Status ReadOptionalId(const Json& obj, const char* key, std::string_view doc,
                      std::optional<Id>* out) {
  Id id;
  bool present = false;
  STASH_RETURN_IF_ERROR(ReadId(obj, key, doc, &id, &present));
  if (present) *out = id;
  return Status::Ok();
}

Status ReadBase64(const Json& obj, const char* key, std::string_view doc, std::string* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return TypeError(doc, key, "a base64 string", *v);
  auto bytes = Base64DecodeToString(v->get_ref<const std::string&>());
  if (!bytes.ok()) {
    return InvalidError(std::string(doc) + ": field \"" + key + "\": " + bytes.status().message());
  }
  *out = std::move(bytes).value();
  return Status::Ok();
}

Result<const Json*> ArrayOrNull(const Json& obj, const char* key, std::string_view doc) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return static_cast<const Json*>(nullptr);
  if (!v->is_array()) return TypeError(doc, key, "an array", *v);
  return v;
}

Status ReadStringList(const Json& obj, const char* key, std::string_view doc,
                      std::vector<std::string>* out) {
  STASH_ASSIGN_OR_RETURN(const Json* arr, ArrayOrNull(obj, key, doc));
  if (arr == nullptr) return Status::Ok();
  out->clear();
  for (const Json& v : *arr) {
    if (!v.is_string()) return TypeError(doc, key, "an array of strings", v);
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

Status ReadIdList(const Json& obj, const char* key, std::string_view doc, std::vector<Id>* out,
                  bool* is_null) {
  STASH_ASSIGN_OR_RETURN(const Json* arr, ArrayOrNull(obj, key, doc));
  if (is_null != nullptr) *is_null = arr == nullptr;
  if (arr == nullptr) return Status::Ok();
  out->clear();
  out->reserve(arr->size());
  for (const Json& v : *arr) {
    if (!v.is_string()) return TypeError(doc, key, "an array of hex ids", v);
    auto id = Id::FromHex(v.get_ref<const std::string&>());
    if (!id.ok()) {
      return InvalidError(std::string(doc) + ": field \"" + key + "\": " + id.status().message());
    }
    out->push_back(*id);
  }
  return Status::Ok();
}

}  // namespace stash::format::internal
