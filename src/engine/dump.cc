#include "stash/engine/dump.h"

#include "stash/engine/walker.h"

namespace stash::engine {

Status DumpFile(repo::Repository& repo, const SnapshotEntry& entry, std::string_view path,
                const WriteFn& write) {
  STASH_ASSIGN_OR_RETURN(format::Node node, FindNode(repo, entry.snapshot.tree, path));
  if (node.type == format::NodeType::kDir) {
    return Status(Code::kUnsupported, "\"" + std::string(path) +
                                          "\" is a directory; dumping directories as an "
                                          "archive is not supported yet, name a file");
  }
  if (node.type != format::NodeType::kFile) {
    return InvalidError("\"" + std::string(path) + "\" should be a file, but is a \"" +
                        std::string(format::NodeTypeName(node.type)) + "\"");
  }
  if (!node.content) return Status::Ok();
  for (const Id& blob_id : *node.content) {
    auto blob = repo.LoadBlob(repo::BlobKind::kData, blob_id);
    if (!blob.ok()) return Status(blob.status()).Prepend("loading blob " + blob_id.Hex());
    STASH_RETURN_IF_ERROR(write(*blob));
  }
  return Status::Ok();
}

}  // namespace stash::engine
