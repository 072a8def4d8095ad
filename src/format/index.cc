#include "stash/format/index.h"

#include "json_read.h"
#include "stash/format/gojson.h"

namespace stash::format {
namespace {

using internal::Json;

constexpr std::string_view kDoc = "index";

Result<IndexPackBlob> ReadBlob(const Json& obj, const Id& pack_id) {
  STASH_RETURN_IF_ERROR(internal::ExpectObject(obj, kDoc, "blob entry"));
  IndexPackBlob b;
  std::string type;
  bool has_id = false;
  STASH_RETURN_IF_ERROR(internal::ReadId(obj, "id", kDoc, &b.id, &has_id));
  STASH_RETURN_IF_ERROR(internal::ReadString(obj, "type", kDoc, &type));
  STASH_RETURN_IF_ERROR(internal::ReadUint32(obj, "offset", kDoc, &b.offset));
  STASH_RETURN_IF_ERROR(internal::ReadUint32(obj, "length", kDoc, &b.length));
  STASH_RETURN_IF_ERROR(
      internal::ReadUint32(obj, "uncompressed_length", kDoc, &b.uncompressed_length));
  if (!has_id) return InvalidError("index: a blob of pack " + pack_id.Hex() + " has no id");
  auto parsed = ParseBlobType(type);
  if (!parsed.has_value()) {
    return InvalidError("index: blob " + b.id.Hex() + " in pack " + pack_id.Hex() +
                        " has unknown type \"" + type + "\"");
  }
  b.type = *parsed;
  return b;
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
    w.Key("id");
    w.IdHex(pack.id);
    w.Key("blobs");
    w.BeginArray();
    for (const IndexPackBlob& b : pack.blobs) {
      w.BeginObject();
      w.Key("id");
      w.IdHex(b.id);
      w.Key("type");
      w.String(BlobTypeName(b.type));
      w.Key("offset");
      w.Uint(b.offset);
      w.Key("length");
      w.Uint(b.length);
      if (b.uncompressed_length != 0) {
        w.Key("uncompressed_length");
        w.Uint(b.uncompressed_length);
      }
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
  STASH_ASSIGN_OR_RETURN(Json doc, internal::ParseJson(json, kDoc, /*allow_array=*/true));
  if (doc.is_array()) {
    return UnsupportedError(
        "index uses restic 0.1's legacy format; rebuild the index with `restic repair index` "
        "(or `rebuild-index`)");
  }
  IndexFile index;
  STASH_RETURN_IF_ERROR(internal::ReadIdList(doc, "supersedes", kDoc, &index.supersedes));
  STASH_ASSIGN_OR_RETURN(const Json* packs, internal::ArrayOrNull(doc, "packs", kDoc));
  if (packs == nullptr) return index;
  index.packs.reserve(packs->size());
  for (const Json& p : *packs) {
    STASH_RETURN_IF_ERROR(internal::ExpectObject(p, kDoc, "pack entry"));
    IndexPack pack;
    bool has_id = false;
    STASH_RETURN_IF_ERROR(internal::ReadId(p, "id", kDoc, &pack.id, &has_id));
    if (!has_id) return InvalidError("index: a pack entry has no id");
    STASH_ASSIGN_OR_RETURN(const Json* blobs, internal::ArrayOrNull(p, "blobs", kDoc));
    if (blobs != nullptr) {
      pack.blobs.reserve(blobs->size());
      for (const Json& b : *blobs) {
        STASH_ASSIGN_OR_RETURN(IndexPackBlob blob, ReadBlob(b, pack.id));
        pack.blobs.push_back(blob);
      }
    }
    index.packs.push_back(std::move(pack));
  }
  return index;
}

}  // namespace stash::format
