// Restorer: writes a snapshot (or the part selected by include/exclude
// patterns) below a target directory, as `restic restore` 0.14 does, but
// planned by pack: every needed pack is read once, in ranges that cover the
// blobs it needs, several packs in flight, and each blob is written with
// pwrite at its offset in every file that uses it. All-zero blobs are not
// written (the file is sized first, so they stay holes: sparse files come back
// sparse). Hardlinks inside the snapshot are restored as hardlinks.
//
// Then metadata, bottom-up: mode, owner (lchown; permission errors ignored
// unless root), atime/mtime (directories after their children), symlinks
// (no chmod), fifos and devices (mknod), extended attributes (best effort).
//
// A failure on one node is reported through the error callback with the
// node's path in the snapshot and the restore continues; Run() returns the
// statistics, whose `errors` the caller turns into restic's exit status.
//
// Thread-safety: one Run() at a time per Restorer; internally multi-threaded.
// The error callback is called under a lock, never concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stash/core/result.h"
#include "stash/engine/filter.h"
#include "stash/engine/path_map.h"
#include "stash/engine/snapshots.h"
#include "stash/format/node.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct RestoreOptions {
  std::string target;    // created when missing
  PatternList includes;  // restore only what matches (and what leads to it)
  PatternList excludes;  // restore everything but what matches
  // --iinclude/--iexclude: patterns already lower-cased, matched against the
  // lower-cased path (ASCII case folding).
  PatternList iincludes;
  PatternList iexcludes;
  // Packs in flight at once; 0 picks max(backend connections, cores).
  int workers = 0;
  // A container's volume mounts on this host (the embedded node): with a map,
  // `target` is the container's "/" and every node is written to its mapped
  // host path. Directories above the mounts are walked but left alone (they
  // are the container's own filesystem); anything outside every mount is
  // reported as an error, since there is no container filesystem to hold it.
  PathMap path_map;
};

struct RestoreStats {
  uint64_t files = 0;  // regular files restored (hardlinks count once each)
  uint64_t dirs = 0;
  uint64_t other = 0;          // symlinks, fifos, devices
  uint64_t bytes = 0;          // file content bytes
  uint64_t bytes_skipped = 0;  // of which all-zero blobs left as holes
  uint64_t errors = 0;
};

// location: the node's path in the snapshot ("/data/x"); the status says
// what failed.
using RestoreErrorFn = std::function<void(const std::string& location, const Status& error)>;

class Restorer {
 public:
  Restorer(repo::Repository& repo, SnapshotEntry snapshot, RestoreOptions opts,
           RestoreErrorFn on_error);

  // Restores into opts.target. The index must be loaded. Fails as a whole
  // only when the target cannot be created or a tree cannot be read.
  Result<RestoreStats> Run();

  // restic --verify: re-reads every restored regular file and compares its
  // size and every blob's SHA-256 with the snapshot. Mismatches go to the
  // error callback. Returns the number of files verified.
  Result<uint64_t> Verify();

 private:
  struct Collected;
  Result<bool> Traverse(const Id& tree, const std::string& target, const std::string& location,
                        Collected* out);
  // A node of the snapshot outside every mount of opts_.path_map.
  Result<bool> TraverseUnmapped(const format::Node& node, const std::string& location,
                                bool selected, bool child_may, Collected* out);
  void Report(const std::string& location, const Status& error);

  repo::Repository& repo_;
  SnapshotEntry snapshot_;
  RestoreOptions opts_;
  RestoreErrorFn on_error_;
  RestoreStats stats_;
  // Regular files written by Run(), for Verify(): target path, content, size.
  struct Written {
    std::string target;
    std::vector<Id> content;
    uint64_t size;
  };
  std::vector<Written> written_;
};

}  // namespace stash::engine
