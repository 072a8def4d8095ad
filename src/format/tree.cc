#include "stash/format/tree.h"

#include <algorithm>

#include "json_read.h"
#include "stash/format/base64.h"
#include "stash/format/gojson.h"
#include "stash/format/goquote.h"

namespace stash::format {
namespace {

using internal::Json;

constexpr std::string_view kDoc = "tree";

bool ValidUtf8(std::string_view s) {
  size_t width = 1;
  for (size_t i = 0; i < s.size(); i += width) {
    GoDecodeRune(s.substr(i), &width);
    if (width == 1 && static_cast<uint8_t>(s[i]) >= 0x80) return false;
  }
  return true;
}

void WriteNode(const Node& n, GoJsonWriter* w) {
  w->BeginObject();
  w->Key("name");
  w->String(GoQuote(n.name));
  w->Key("type");
  w->String(NodeTypeName(n.type));
  if (n.mode != 0) {
    w->Key("mode");
    w->Uint(n.mode);
  }
  // Go's omitempty never drops a struct, so the three times are always there.
  w->Key("mtime");
  w->String(FormatRfc3339Nano(n.mtime));
  w->Key("atime");
  w->String(FormatRfc3339Nano(n.atime));
  w->Key("ctime");
  w->String(FormatRfc3339Nano(n.ctime));
  w->Key("uid");
  w->Uint(n.uid);
  w->Key("gid");
  w->Uint(n.gid);
  const auto opt_string = [w](const char* key, const std::string& v) {
    if (v.empty()) return;
    w->Key(key);
    w->String(v);
  };
  const auto opt_uint = [w](const char* key, uint64_t v) {
    if (v == 0) return;
    w->Key(key);
    w->Uint(v);
  };
  opt_string("user", n.user);
  opt_string("group", n.group);
  opt_uint("inode", n.inode);
  opt_uint("device_id", n.device_id);
  opt_uint("size", n.size);
  opt_uint("links", n.links);
  opt_string("linktarget", n.linktarget);
  if (!ValidUtf8(n.linktarget)) {
    w->Key("linktarget_raw");
    w->String(Base64Encode(n.linktarget));
  }
  if (!n.extended_attributes.empty()) {
    w->Key("extended_attributes");
    w->BeginArray();
    for (const ExtendedAttribute& a : n.extended_attributes) {
      w->BeginObject();
      w->Key("name");
      w->String(a.name);
      w->Key("value");
      w->String(Base64Encode(a.value));
      w->EndObject();
    }
    w->EndArray();
  }
  opt_uint("device", n.device);
  w->Key("content");
  if (!n.content.has_value()) {
    w->Null();
  } else {
    w->BeginArray();
    for (const Id& id : *n.content) w->String(id.Hex());
    w->EndArray();
  }
  if (n.subtree.has_value()) {
    w->Key("subtree");
    w->String(n.subtree->Hex());
  }
  opt_string("error", n.error);
  w->EndObject();
}

Status ReadExtendedAttributes(const Json& obj, std::vector<ExtendedAttribute>* out) {
  STASH_ASSIGN_OR_RETURN(const Json* arr, internal::ArrayOrNull(obj, "extended_attributes", kDoc));
  if (arr == nullptr) return Status::Ok();
  for (const Json& item : *arr) {
    STASH_RETURN_IF_ERROR(internal::ExpectObject(item, kDoc, "extended attribute"));
    ExtendedAttribute a;
    STASH_RETURN_IF_ERROR(internal::ReadString(item, "name", kDoc, &a.name));
    STASH_RETURN_IF_ERROR(internal::ReadBase64(item, "value", kDoc, &a.value));
    out->push_back(std::move(a));
  }
  return Status::Ok();
}

Result<Node> ReadNode(const Json& obj) {
  STASH_RETURN_IF_ERROR(internal::ExpectObject(obj, kDoc, "node"));
  Node n;
  std::string quoted_name;
  STASH_RETURN_IF_ERROR(internal::ReadString(obj, "name", kDoc, &quoted_name));
  auto name = GoUnquote(quoted_name);
  if (!name.ok()) return Status(name.status()).Prepend("tree: node name");
  n.name = std::move(name).value();
  const std::string context = "tree: node \"" + quoted_name + "\"";

  std::string type_name;
  STASH_RETURN_IF_ERROR(internal::ReadString(obj, "type", kDoc, &type_name));
  auto type = ParseNodeType(type_name);
  if (!type.has_value()) {
    return InvalidError(context + " has unknown type \"" + type_name +
                        "\"; it was written by an unsupported tool or is corrupt");
  }
  n.type = *type;

  Status s = [&]() -> Status {
    STASH_RETURN_IF_ERROR(internal::ReadUint32(obj, "mode", kDoc, &n.mode));
    STASH_RETURN_IF_ERROR(internal::ReadTime(obj, "mtime", kDoc, &n.mtime));
    STASH_RETURN_IF_ERROR(internal::ReadTime(obj, "atime", kDoc, &n.atime));
    STASH_RETURN_IF_ERROR(internal::ReadTime(obj, "ctime", kDoc, &n.ctime));
    STASH_RETURN_IF_ERROR(internal::ReadUint32(obj, "uid", kDoc, &n.uid));
    STASH_RETURN_IF_ERROR(internal::ReadUint32(obj, "gid", kDoc, &n.gid));
    STASH_RETURN_IF_ERROR(internal::ReadString(obj, "user", kDoc, &n.user));
    STASH_RETURN_IF_ERROR(internal::ReadString(obj, "group", kDoc, &n.group));
    constexpr uint64_t kMax = UINT64_MAX;
    STASH_RETURN_IF_ERROR(internal::ReadUint(obj, "inode", kDoc, kMax, &n.inode));
    STASH_RETURN_IF_ERROR(internal::ReadUint(obj, "device_id", kDoc, kMax, &n.device_id));
    STASH_RETURN_IF_ERROR(internal::ReadUint(obj, "size", kDoc, kMax, &n.size));
    STASH_RETURN_IF_ERROR(internal::ReadUint(obj, "links", kDoc, kMax, &n.links));
    STASH_RETURN_IF_ERROR(internal::ReadString(obj, "linktarget", kDoc, &n.linktarget));
    // restic 0.16+ keeps the exact bytes of a non-UTF-8 target here.
    STASH_RETURN_IF_ERROR(internal::ReadBase64(obj, "linktarget_raw", kDoc, &n.linktarget));
    STASH_RETURN_IF_ERROR(ReadExtendedAttributes(obj, &n.extended_attributes));
    STASH_RETURN_IF_ERROR(internal::ReadUint(obj, "device", kDoc, kMax, &n.device));
    std::vector<Id> content;
    bool content_null = true;
    STASH_RETURN_IF_ERROR(internal::ReadIdList(obj, "content", kDoc, &content, &content_null));
    if (!content_null) n.content = std::move(content);
    STASH_RETURN_IF_ERROR(internal::ReadOptionalId(obj, "subtree", kDoc, &n.subtree));
    STASH_RETURN_IF_ERROR(internal::ReadString(obj, "error", kDoc, &n.error));
    return Status::Ok();
  }();
  if (!s.ok()) return std::move(s).Prepend(context);
  return n;
}

}  // namespace

std::string EncodeNode(const Node& node) {
  GoJsonWriter w;
  WriteNode(node, &w);
  return w.Take();
}

Result<std::string> EncodeTree(const std::vector<Node>& nodes) {
  for (size_t i = 1; i < nodes.size(); ++i) {
    if (!(nodes[i - 1].name < nodes[i].name)) {
      const bool dup = nodes[i - 1].name == nodes[i].name;
      return InvalidError("cannot encode tree: node \"" + GoQuote(nodes[i].name) + "\" " +
                          (dup ? "appears twice" : "is out of order") +
                          "; restic requires names sorted by bytes and unique");
    }
  }
  GoJsonWriter w;
  w.BeginObject();
  w.Key("nodes");
  w.BeginArray();
  for (const Node& n : nodes) WriteNode(n, &w);
  w.EndArray();
  w.EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

void SortNodes(std::vector<Node>* nodes) {
  std::stable_sort(nodes->begin(), nodes->end(),
                   [](const Node& a, const Node& b) { return a.name < b.name; });
}

Result<std::vector<Node>> DecodeTree(std::string_view json) {
  STASH_ASSIGN_OR_RETURN(Json doc, internal::ParseJson(json, kDoc));
  STASH_ASSIGN_OR_RETURN(const Json* arr, internal::ArrayOrNull(doc, "nodes", kDoc));
  std::vector<Node> nodes;
  if (arr == nullptr) return nodes;
  nodes.reserve(arr->size());
  for (const Json& item : *arr) {
    STASH_ASSIGN_OR_RETURN(Node n, ReadNode(item));
    nodes.push_back(std::move(n));
  }
  return nodes;
}

}  // namespace stash::format
