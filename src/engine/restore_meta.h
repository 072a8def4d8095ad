// Private to engine: creating non-regular nodes and applying a node's
// metadata to a restored path (restic's Node.CreateAt / RestoreMetadata).
//
// Thread-safety: free functions; they touch only the given path.
#pragma once

#include <string>

#include "stash/core/status.h"
#include "stash/format/node.h"

namespace stash::engine {

// Creates a symlink, fifo, block or char device at `path` (directories are
// created by the restorer itself). Sockets are skipped by the caller.
Status CreateSpecialNode(const format::Node& node, const std::string& path);

// Owner (lchown; EPERM ignored when not root, as cp -a), mode (not for
// symlinks), extended attributes (best effort) and atime/mtime, in that order
// so the times are not disturbed afterwards.
Status RestoreMetadata(const format::Node& node, const std::string& path);

}  // namespace stash::engine
