// `dump <snapshot> <path>`: streams one file's content out of a snapshot,
// blob by blob (never the whole file in memory), or a directory as tar.
//
// Thread-safety: free function over a thread-safe Repository; `write` is
// called from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "stash/core/result.h"
#include "stash/engine/snapshots.h"
#include "stash/repo/repository.h"

namespace stash::engine {

using WriteFn = std::function<Status(std::span<const uint8_t>)>;

// Writes the content of the file at `path` ("/data/file") of the snapshot.
// The index must be loaded. kNotFound ("path … not found in snapshot") when
// it does not exist; kUnsupported when it is a directory (use DumpTar);
// kInvalid for any other non-file node.
Status DumpFile(repo::Repository& repo, const SnapshotEntry& entry, std::string_view path,
                const WriteFn& write);

// True when `path` names a directory of the snapshot ("/" is the root).
Result<bool> IsDirectory(repo::Repository& repo, const SnapshotEntry& entry, std::string_view path);

// Writes the directory at `path` ("/" for the whole snapshot) as a POSIX
// (pax) tar stream, as `restic dump` does: files, directories and symlinks
// below it, names relative to the snapshot root, mode, owner, nanosecond
// times. Other node types are skipped, as restic.
Status DumpTar(repo::Repository& repo, const SnapshotEntry& entry, std::string_view path,
               const WriteFn& write);

}  // namespace stash::engine
