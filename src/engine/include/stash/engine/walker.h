// Tree walking: loads tree blobs from a repository and visits their nodes
// depth-first in name order, the order restic's walker and `ls` use. Also
// resolves a path inside a snapshot to its node.
//
// Thread-safety: free functions; safe to run several walks at once on one
// (thread-safe) Repository.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/node.h"
#include "stash/repo/repository.h"

namespace stash::engine {

// Loads and decodes one tree blob. Errors name the tree.
Result<std::vector<format::Node>> LoadTree(repo::Repository& repo, const Id& tree);

enum class WalkAction { kContinue, kSkipSubtree };

// Called for every node, parents before children; `path` is the node's path
// from the walk's root ("/data/sub/file" when prefix is "/").
using WalkVisitor =
    std::function<Result<WalkAction>(const std::string& path, const format::Node& node)>;

// Walks the tree `tree` whose nodes live at `prefix` ("/" for a snapshot's
// root). Stops at the first error (a tree that cannot be loaded, or the
// visitor's).
Status WalkTree(repo::Repository& repo, const Id& tree, const std::string& prefix,
                const WalkVisitor& visit);

// Joins a directory path and a node name as Go's path.Join does for clean
// inputs ("/" + "a" = "/a", "/a" + "b" = "/a/b").
std::string JoinPath(const std::string& dir, std::string_view name);

// The node at `path` ("/data/file") below `root`; kNotFound names the first
// missing component, kInvalid a component that is not a directory.
Result<format::Node> FindNode(repo::Repository& repo, const Id& root, std::string_view path);

}  // namespace stash::engine
