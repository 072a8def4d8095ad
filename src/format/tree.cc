#include "stash/format/tree.h"

#include <algorithm>

#include "json_scan.h"
#include "stash/core/base64.h"
#include "stash/format/gojson.h"
#include "stash/format/goquote.h"

namespace stash::format {
namespace {

constexpr std::string_view kDoc = "tree";

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
  w->Time(n.mtime);
  w->Key("atime");
  w->Time(n.atime);
  w->Key("ctime");
  w->Time(n.ctime);
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
  if (!GoValidUtf8(n.linktarget)) {
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
      if (a.null_value) {
        w->Null();
      } else {
        w->String(Base64Encode(a.value));
      }
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
    for (const Id& id : *n.content) w->IdHex(id);
    w->EndArray();
  }
  if (n.subtree.has_value()) {
    w->Key("subtree");
    w->IdHex(*n.subtree);
  }
  opt_string("error", n.error);
  w->EndObject();
}

// Field readers over the scanner. A null leaves the field untouched, as Go.
class NodeReader {
 public:
  explicit NodeReader(internal::JsonScanner* js) : js_(*js) {}

  Status Read(Node* n) {
    if (!js_.PeekObject()) return js_.Error("a node must be an object");
    STASH_RETURN_IF_ERROR(js_.BeginObject());
    bool have_raw_target = false;
    std::string raw_target;
    while (true) {
      STASH_ASSIGN_OR_RETURN(bool more, js_.NextKey(&key_));
      if (!more) break;
      if (js_.TryNull()) {
        if (key_ == "content") n->content.reset();
        continue;
      }
      Status s = Field(n, &have_raw_target, &raw_target);
      if (!s.ok()) return std::move(s).Prepend("field \"" + key_ + "\"");
    }
    if (have_raw_target) n->linktarget = std::move(raw_target);
    return Status::Ok();
  }

 private:
  Status Field(Node* n, bool* have_raw_target, std::string* raw_target) {
    const std::string& k = key_;
    if (k == "name") {
      STASH_RETURN_IF_ERROR(js_.String(&buf_));
      STASH_ASSIGN_OR_RETURN(n->name, GoUnquote(buf_));
      return Status::Ok();
    }
    if (k == "type") {
      STASH_RETURN_IF_ERROR(js_.String(&buf_));
      auto type = ParseNodeType(buf_);
      if (!type.has_value()) {
        return InvalidError("unknown node type \"" + buf_ +
                            "\"; written by an unsupported tool or corrupt");
      }
      n->type = *type;
      return Status::Ok();
    }
    if (k == "mode") return js_.U32(&n->mode);
    if (k == "mtime") return js_.Time(&n->mtime);
    if (k == "atime") return js_.Time(&n->atime);
    if (k == "ctime") return js_.Time(&n->ctime);
    if (k == "uid") return js_.U32(&n->uid);
    if (k == "gid") return js_.U32(&n->gid);
    if (k == "user") return js_.String(&n->user);
    if (k == "group") return js_.String(&n->group);
    if (k == "inode") return js_.Uint(UINT64_MAX, &n->inode);
    if (k == "device_id") return js_.Uint(UINT64_MAX, &n->device_id);
    if (k == "size") return js_.Uint(UINT64_MAX, &n->size);
    if (k == "links") return js_.Uint(UINT64_MAX, &n->links);
    if (k == "linktarget") return js_.String(&n->linktarget);
    if (k == "linktarget_raw") {
      // restic 0.16+ keeps the exact bytes of a non-UTF-8 target here.
      STASH_RETURN_IF_ERROR(js_.Base64(raw_target));
      *have_raw_target = true;
      return Status::Ok();
    }
    if (k == "extended_attributes") return Xattrs(&n->extended_attributes);
    if (k == "device") return js_.Uint(UINT64_MAX, &n->device);
    if (k == "content") {
      std::vector<Id> ids;
      STASH_RETURN_IF_ERROR(js_.IdList(&ids));
      n->content = std::move(ids);
      return Status::Ok();
    }
    if (k == "subtree") {
      Id id;
      STASH_RETURN_IF_ERROR(js_.IdValue(&id));
      n->subtree = id;
      return Status::Ok();
    }
    if (k == "error") return js_.String(&n->error);
    return js_.Skip();  // generic_attributes and whatever newer restic adds
  }

  Status Xattrs(std::vector<ExtendedAttribute>* out) {
    out->clear();
    STASH_RETURN_IF_ERROR(js_.BeginArray());
    while (true) {
      STASH_ASSIGN_OR_RETURN(bool more, js_.NextElement());
      if (!more) return Status::Ok();
      if (js_.TryNull()) continue;
      ExtendedAttribute a;
      STASH_RETURN_IF_ERROR(js_.BeginObject());
      std::string key;
      while (true) {
        STASH_ASSIGN_OR_RETURN(bool field, js_.NextKey(&key));
        if (!field) break;
        if (js_.TryNull()) {
          if (key == "value") a.null_value = true;
          continue;
        }
        if (key == "name") {
          STASH_RETURN_IF_ERROR(js_.String(&a.name));
        } else if (key == "value") {
          STASH_RETURN_IF_ERROR(js_.Base64(&a.value));
        } else {
          STASH_RETURN_IF_ERROR(js_.Skip());
        }
      }
      out->push_back(std::move(a));
    }
  }

  internal::JsonScanner& js_;
  std::string key_;
  std::string buf_;
};

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
  internal::JsonScanner js(json, kDoc);
  NodeReader reader(&js);
  std::vector<Node> nodes;
  std::string key;
  STASH_RETURN_IF_ERROR(js.BeginObject());
  while (true) {
    STASH_ASSIGN_OR_RETURN(bool more, js.NextKey(&key));
    if (!more) break;
    if (key != "nodes") {
      STASH_RETURN_IF_ERROR(js.Skip());
      continue;
    }
    if (js.TryNull()) continue;
    nodes.clear();
    STASH_RETURN_IF_ERROR(js.BeginArray());
    while (true) {
      STASH_ASSIGN_OR_RETURN(bool element, js.NextElement());
      if (!element) break;
      Node n;
      Status s = reader.Read(&n);
      if (!s.ok()) {
        const std::string where = n.name.empty() ? "tree: node " + std::to_string(nodes.size())
                                                 : "tree: node \"" + GoQuote(n.name) + "\"";
        return std::move(s).Prepend(where);
      }
      nodes.push_back(std::move(n));
    }
  }
  STASH_RETURN_IF_ERROR(js.Finish());
  return nodes;
}

}  // namespace stash::format
