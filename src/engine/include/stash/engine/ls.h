// `ls`: lists the nodes of a snapshot as restic 0.14 prints them — plain paths,
// the long format (`-l`: Go mode string, uid, gid, size, mtime, path, link
// target) or JSON lines (the snapshot, then one object per node).
//
// Thread-safety: free functions; `out` is called from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/engine/snapshots.h"
#include "stash/format/node.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct LsOptions {
  // Absolute directories to list (empty: everything). Without `recursive`
  // only their direct children are printed, as restic.
  std::vector<std::string> dirs;
  bool recursive = false;
  bool long_format = false;
  bool json = false;
};

// Go's os.FileMode.String(): type letters from "dalTLDpSugct?" (or '-') then
// rwxrwxrwx.
std::string GoFileModeString(uint32_t mode);

// One `ls -l` line (without newline).
std::string LsLongLine(const std::string& path, const format::Node& node);
// One `ls --json` node object (without newline).
std::string LsNodeJson(const std::string& path, const format::Node& node);
// The header restic prints before a text listing:
// "snapshot 1a2b3c4d of [/p] filtered by [] at <Go time>):".
std::string LsHeader(const SnapshotEntry& entry, const std::vector<std::string>& dirs);

// True when `path` is `base` or below it, comparing whole components.
bool HasPathPrefix(std::string_view base, std::string_view path);

// Walks the snapshot and emits one line (with "\n") per selected node, or
// with json=true the snapshot line first. `dirs` must be absolute (kInvalid
// otherwise, with restic's message).
Status ListSnapshot(repo::Repository& repo, const SnapshotEntry& entry, const LsOptions& opts,
                    const std::function<void(std::string_view)>& out);

}  // namespace stash::engine
