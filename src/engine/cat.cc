#include "stash/engine/cat.h"

#include "stash/crypto/sha256.h"
#include "stash/engine/walker.h"
#include "stash/format/keyfile.h"
#include "stash/format/lock.h"

namespace stash::engine {

namespace {

std::string AsString(const std::vector<uint8_t>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<Id> ResolveId(repo::Repository& repo, backend::FileType type, std::string_view id) {
  if (id.size() == 64) {
    auto full = Id::FromHex(id);
    if (full.ok()) return *full;
  }
  return repo.ResolvePrefix(type, id);
}

Result<std::string> CatTree(repo::Repository& repo, std::string_view spec) {
  size_t colon = spec.find(':');
  std::string_view snap = spec.substr(0, colon);
  std::string_view sub = colon == spec.npos ? std::string_view("/") : spec.substr(colon + 1);
  STASH_ASSIGN_OR_RETURN(SnapshotEntry entry, FindSnapshot(repo, snap, SnapshotFilter{}));
  STASH_RETURN_IF_ERROR(repo.LoadIndex());
  Id tree = entry.snapshot.tree;
  if (sub != "/" && !sub.empty()) {
    STASH_ASSIGN_OR_RETURN(format::Node node, FindNode(repo, tree, sub));
    if (node.type != format::NodeType::kDir || !node.subtree) {
      return InvalidError("path \"" + std::string(sub) + "\" is not a directory");
    }
    tree = *node.subtree;
  }
  STASH_ASSIGN_OR_RETURN(auto blob, repo.LoadBlob(repo::BlobKind::kTree, tree));
  return AsString(blob);
}

}  // namespace

std::string GoJsonIndent(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 2);
  int depth = 0;
  bool need_indent = false;  // a '{' or '[' was just written
  auto newline = [&] {
    out += '\n';
    out.append(2 * depth, ' ');
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (need_indent && c != ']' && c != '}') {
      need_indent = false;
      ++depth;
      newline();
    }
    if (c == '"') {
      size_t j = i + 1;
      while (j < in.size() && in[j] != '"') j += in[j] == '\\' ? 2 : 1;
      out.append(in.substr(i, j - i + 1));
      i = j;
      continue;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        need_indent = true;
        break;
      case ',':
        out += c;
        newline();
        break;
      case ':':
        out += ": ";
        break;
      case '}':
      case ']':
        if (need_indent) {
          need_indent = false;  // empty object or array stays compact
        } else {
          --depth;
          newline();
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::string> CatObject(repo::Repository& repo, std::string_view type, std::string_view id,
                              const WarnFn& warn) {
  using backend::FileType;
  if (type == "config") return GoJsonIndent(repo.ConfigJson()) + "\n";
  if (type == "masterkey") return GoJsonIndent(repo.MasterKeyJson()) + "\n";
  if (id.empty()) return InvalidError("type or ID not specified");
  if (type == "tree") return CatTree(repo, id);
  if (type == "snapshot") {
    STASH_ASSIGN_OR_RETURN(SnapshotEntry entry, FindSnapshot(repo, id, SnapshotFilter{}));
    return GoJsonIndent(format::EncodeSnapshot(entry.snapshot)) + "\n";
  }
  if (type == "index") {
    STASH_ASSIGN_OR_RETURN(Id full, ResolveId(repo, FileType::kIndex, id));
    STASH_ASSIGN_OR_RETURN(std::string json, repo.LoadUnpacked(FileType::kIndex, full));
    return json + "\n";
  }
  if (type == "lock") {
    STASH_ASSIGN_OR_RETURN(Id full, ResolveId(repo, FileType::kLock, id));
    STASH_ASSIGN_OR_RETURN(std::string json, repo.LoadUnpacked(FileType::kLock, full));
    STASH_ASSIGN_OR_RETURN(format::Lock lock, format::DecodeLock(json));
    return GoJsonIndent(format::EncodeLock(lock)) + "\n";
  }
  if (type == "key") {
    STASH_ASSIGN_OR_RETURN(Id full, ResolveId(repo, FileType::kKey, id));
    std::vector<uint8_t> raw;
    STASH_RETURN_IF_ERROR(repo.backend().Load({FileType::kKey, full.Hex()}, 0, 0, &raw));
    STASH_ASSIGN_OR_RETURN(format::KeyFile key, format::DecodeKeyFile(AsString(raw)));
    return GoJsonIndent(format::EncodeKeyFile(key)) + "\n";
  }
  if (type == "pack") {
    STASH_ASSIGN_OR_RETURN(Id full, ResolveId(repo, FileType::kPack, id));
    std::vector<uint8_t> raw;
    STASH_RETURN_IF_ERROR(repo.backend().Load({FileType::kPack, full.Hex()}, 0, 0, &raw));
    Id hash = crypto::Sha256(raw);
    if (hash != full && warn) {
      warn("Warning: hash of data does not match ID, want\n  " + full.Hex() + "\ngot:\n  " +
           hash.Hex());
    }
    return AsString(raw);
  }
  if (type == "blob") {
    STASH_ASSIGN_OR_RETURN(Id full, Id::FromHex(id));
    STASH_RETURN_IF_ERROR(repo.LoadIndex());
    for (repo::BlobKind kind : {repo::BlobKind::kData, repo::BlobKind::kTree}) {
      if (!repo.Has(kind, full)) continue;
      STASH_ASSIGN_OR_RETURN(auto blob, repo.LoadBlob(kind, full));
      return AsString(blob);
    }
    return NotFoundError("blob not found");
  }
  return InvalidError("invalid type");
}

}  // namespace stash::engine
