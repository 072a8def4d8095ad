#include "stash/engine/walker.h"

#include "stash/engine/filter.h"
#include "stash/format/tree.h"

namespace stash::engine {

Result<std::vector<format::Node>> LoadTree(repo::Repository& repo, const Id& tree) {
  auto blob = repo.LoadBlob(repo::BlobKind::kTree, tree);
  if (!blob.ok()) return Status(blob.status()).Prepend("loading tree " + tree.ShortHex());
  std::string_view json(reinterpret_cast<const char*>(blob->data()), blob->size());
  auto nodes = format::DecodeTree(json);
  if (!nodes.ok()) return Status(nodes.status()).Prepend("decoding tree " + tree.Hex());
  return std::move(*nodes);
}

std::string JoinPath(const std::string& dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return dir + std::string(name);
  return dir + "/" + std::string(name);
}

Status WalkTree(repo::Repository& repo, const Id& tree, const std::string& prefix,
                const WalkVisitor& visit) {
  STASH_ASSIGN_OR_RETURN(std::vector<format::Node> nodes, LoadTree(repo, tree));
  for (const format::Node& node : nodes) {
    std::string path = JoinPath(prefix, node.name);
    STASH_ASSIGN_OR_RETURN(WalkAction action, visit(path, node));
    if (node.type != format::NodeType::kDir || action == WalkAction::kSkipSubtree) continue;
    if (!node.subtree) {
      return Status(Code::kDataLoss,
                    "tree " + tree.Hex() + ": dir node \"" + node.name + "\" has no subtree");
    }
    STASH_RETURN_IF_ERROR(WalkTree(repo, *node.subtree, path, visit));
  }
  return Status::Ok();
}

Result<format::Node> FindNode(repo::Repository& repo, const Id& root, std::string_view path) {
  std::string clean = GoPathClean(path);
  Id tree = root;
  std::string walked;
  size_t pos = clean[0] == '/' ? 1 : 0;
  while (pos < clean.size()) {
    size_t slash = clean.find('/', pos);
    std::string name =
        clean.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    walked += "/" + name;
    STASH_ASSIGN_OR_RETURN(std::vector<format::Node> nodes, LoadTree(repo, tree));
    const format::Node* found = nullptr;
    for (const format::Node& n : nodes) {
      if (n.name == name) found = &n;
    }
    if (!found) return NotFoundError("path \"" + walked + "\" not found in snapshot");
    if (slash == std::string::npos) return *found;
    if (found->type != format::NodeType::kDir || !found->subtree) {
      return InvalidError("\"" + walked + "\" should be a dir, but is a \"" +
                          std::string(format::NodeTypeName(found->type)) + "\"");
    }
    tree = *found->subtree;
    pos = slash + 1;
  }
  return InvalidError("path \"" + std::string(path) + "\" names the snapshot root, not a node");
}

}  // namespace stash::engine
