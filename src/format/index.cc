#include "stash/format/index.h"

#include "json_scan.h"
#include "stash/format/gojson.h"

namespace stash::format {
namespace {

constexpr std::string_view kDoc = "index";

Status ReadBlob(internal::JsonScanner& js, std::string* key, std::string* buf, IndexPackBlob* b) {
  if (!js.PeekObject()) return js.Error("a blob entry must be an object");
  STASH_RETURN_IF_ERROR(js.BeginObject());
  bool has_id = false, has_type = false;
  while (true) {
    STASH_ASSIGN_OR_RETURN(bool more, js.NextKey(key));
    if (!more) break;
    if (js.TryNull()) continue;
    if (*key == "id") {
      STASH_RETURN_IF_ERROR(js.IdValue(&b->id));
      has_id = true;
    } else if (*key == "type") {
      STASH_RETURN_IF_ERROR(js.String(buf));
      auto type = ParseBlobType(*buf);
      if (!type.has_value()) return InvalidError("unknown blob type \"" + *buf + "\"");
      b->type = *type;
      has_type = true;
    } else if (*key == "offset") {
      STASH_RETURN_IF_ERROR(js.U32(&b->offset));
    } else if (*key == "length") {
      STASH_RETURN_IF_ERROR(js.U32(&b->length));
    } else if (*key == "uncompressed_length") {
      STASH_RETURN_IF_ERROR(js.U32(&b->uncompressed_length));
    } else {
      STASH_RETURN_IF_ERROR(js.Skip());
    }
  }
  if (!has_id) return InvalidError("blob entry has no id");
  if (!has_type) return InvalidError("blob " + b->id.Hex() + " has no type");
  return Status::Ok();
}

Status ReadPack(internal::JsonScanner& js, std::string* key, std::string* buf, IndexPack* pack) {
  if (!js.PeekObject()) return js.Error("a pack entry must be an object");
  STASH_RETURN_IF_ERROR(js.BeginObject());
  bool has_id = false;
  while (true) {
    STASH_ASSIGN_OR_RETURN(bool more, js.NextKey(key));
    if (!more) break;
    if (js.TryNull()) continue;
    if (*key == "id") {
      STASH_RETURN_IF_ERROR(js.IdValue(&pack->id));
      has_id = true;
    } else if (*key == "blobs") {
      pack->blobs.clear();
      STASH_RETURN_IF_ERROR(js.BeginArray());
      while (true) {
        STASH_ASSIGN_OR_RETURN(bool element, js.NextElement());
        if (!element) break;
        IndexPackBlob b;
        Status s = ReadBlob(js, key, buf, &b);
        if (!s.ok()) {
          return std::move(s).Prepend("pack " + (has_id ? pack->id.Hex() : std::string("?")));
        }
        pack->blobs.push_back(b);
      }
    } else {
      STASH_RETURN_IF_ERROR(js.Skip());
    }
  }
  if (!has_id) return InvalidError("a pack entry has no id");
  return Status::Ok();
}

}  // namespace

std::string EncodeIndex(const IndexFile& index) {
  GoJsonWriter w;
  w.BeginObject();
  if (!index.supersedes.empty()) {
    w.Key("supersedes");
    w.BeginArray();
    for (const Id& id : index.supersedes) w.IdHex(id);
    w.EndArray();
  }
  w.Key("packs");
  w.BeginArray();
  for (const IndexPack& pack : index.packs) {
    w.BeginObject();
    w.IdField("id", pack.id);
    w.Key("blobs");
    w.BeginArray();
    for (const IndexPackBlob& b : pack.blobs) {
      w.BeginObject();
      w.IdField("id", b.id);
      w.StringField("type", BlobTypeName(b.type));
      w.UintField("offset", b.offset);
      w.UintField("length", b.length);
      if (b.uncompressed_length != 0) w.UintField("uncompressed_length", b.uncompressed_length);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

Result<IndexFile> DecodeIndex(std::string_view json) {
  const size_t first = json.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && json[first] == '[') {
    return UnsupportedError(
        "index uses restic 0.1's legacy format; rebuild the index with `restic repair index` "
        "(or `rebuild-index`)");
  }
  internal::JsonScanner js(json, kDoc);
  IndexFile index;
  std::string key, buf;
  Status s = [&]() -> Status {
    STASH_RETURN_IF_ERROR(js.BeginObject());
    while (true) {
      STASH_ASSIGN_OR_RETURN(bool more, js.NextKey(&key));
      if (!more) break;
      if (js.TryNull()) continue;
      if (key == "supersedes") {
        STASH_RETURN_IF_ERROR(js.IdList(&index.supersedes));
      } else if (key == "packs") {
        index.packs.clear();
        STASH_RETURN_IF_ERROR(js.BeginArray());
        while (true) {
          STASH_ASSIGN_OR_RETURN(bool element, js.NextElement());
          if (!element) break;
          IndexPack pack;
          STASH_RETURN_IF_ERROR(ReadPack(js, &key, &buf, &pack));
          index.packs.push_back(std::move(pack));
        }
      } else {
        STASH_RETURN_IF_ERROR(js.Skip());
      }
    }
    return js.Finish();
  }();
  if (!s.ok()) return std::move(s).Prepend("index");
  return index;
}

}  // namespace stash::format
