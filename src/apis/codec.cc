#include "stash/apis/codec.h"

#include <algorithm>

#include "stash/core/base64.h"

namespace stash::apis {

std::string Path::ToString() const {
  std::vector<const Path*> chain;
  for (const Path* p = this; p && p->kind_ != kRoot; p = p->parent_) chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Path& p = **it;
    switch (p.kind_) {
      case kField:
        if (!out.empty()) out += '.';
        out += p.key_;
        break;
      case kIndex:
        out += '[' + std::to_string(p.index_) + ']';
        break;
      case kKey:
        out += '[';
        out += p.key_;
        out += ']';
        break;
      case kRoot:
        break;
    }
  }
  return out;
}

Status FieldError(const Path& path, std::string_view what) {
  std::string where = path.ToString();
  return InvalidError(where.empty() ? std::string(what) : where + ": " + std::string(what));
}

std::string_view JsonTypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "list";
    case json::value_t::object:
      return "object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    default:
      return "binary";
  }
}

namespace {
Status Expected(const Path& p, std::string_view what, const json& got) {
  return FieldError(p, "expected " + std::string(what) + ", got " + std::string(JsonTypeName(got)));
}
}  // namespace

Status DecodeField(const json& j, const Path& p, std::string* out) {
  if (!j.is_string()) return Expected(p, "a string", j);
  *out = j.get_ref<const std::string&>();
  return Status::Ok();
}

Status DecodeField(const json& j, const Path& p, bool* out) {
  if (!j.is_boolean()) return Expected(p, "true or false", j);
  *out = j.get<bool>();
  return Status::Ok();
}

Status DecodeField(const json& j, const Path& p, int64_t* out) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > uint64_t(INT64_MAX)) return FieldError(p, "integer out of range");
    *out = int64_t(v);
    return Status::Ok();
  }
  if (!j.is_number_integer()) return Expected(p, "an integer", j);
  *out = j.get<int64_t>();
  return Status::Ok();
}

Status DecodeField(const json& j, const Path& p, int32_t* out) {
  int64_t v = 0;
  STASH_RETURN_IF_ERROR(DecodeField(j, p, &v));
  if (v < INT32_MIN || v > INT32_MAX) return FieldError(p, "integer out of the int32 range");
  *out = int32_t(v);
  return Status::Ok();
}

Status DecodeField(const json& j, const Path& p, double* out) {
  if (!j.is_number()) return Expected(p, "a number", j);
  *out = j.get<double>();
  return Status::Ok();
}

Status DecodeField(const json& j, const Path&, json* out) {
  *out = j;
  return Status::Ok();
}

Status DecodeField(const json& j, const Path& p, Bytes* out) {
  if (!j.is_string()) return Expected(p, "a base64 string", j);
  auto bytes = Base64Decode(j.get_ref<const std::string&>());
  if (!bytes.ok()) return FieldError(p, bytes.status().message());
  *out = Bytes(std::move(*bytes));
  return Status::Ok();
}

json EncodeField(const Bytes& v) { return Base64Encode(std::string_view(v)); }

json MergePatchDiff(const json& from, const json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  json patch = json::object();
  for (const auto& [k, v] : from.items()) {
    if (!to.contains(k)) patch[k] = nullptr;
  }
  for (const auto& [k, v] : to.items()) {
    auto old = from.find(k);
    if (old == from.end()) {
      patch[k] = v;
    } else if (*old != v) {
      // A nested object is patched member by member; anything else replaced.
      patch[k] = old->is_object() && v.is_object() ? MergePatchDiff(*old, v) : v;
    }
  }
  return patch;
}

Status Reader::Finish() {
  if (!status_.ok()) return status_;
  if (consumed_.size() == obj_.size()) return Status::Ok();
  for (const auto& [k, v] : obj_.items()) {
    if (std::find(consumed_.begin(), consumed_.end(), k) != consumed_.end()) continue;
    if (!extra_->fields.is_object()) extra_->fields = json::object();
    extra_->fields[k] = v;
  }
  return Status::Ok();
}

}  // namespace stash::apis
