// Private to engine (backup): `backup --stdin`. restic 0.14 presents stdin
// as a one-file file system (fs.Reader): "/<name>" with mode 0644, the
// snapshot time as mtime/ctime/atime, the caller's uid/gid and no inode or
// device; directories on the way are 0755 with the time of the backup run
// (restic's time.Now(), even with --time). Stdin is one
// stream, so it is read, chunked and stored on the calling thread.
//
// Thread-safety: a blocking call; progress counters may be read meanwhile.
#pragma once

#include <string>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/engine/backup.h"
#include "stash/format/time.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct StdinResult {
  Id tree;            // the snapshot's root tree
  std::string path;   // "/<name>", the snapshot's path
  uint64_t size = 0;  // bytes read
  uint64_t data_blobs = 0;
  uint64_t tree_blobs = 0;
  uint64_t dirs_new = 0;  // directories above the file
};

Result<StdinResult> BackupStdin(repo::Repository& repo, int fd, const std::string& name,
                                const format::Timestamp& when, const format::Timestamp& now,
                                BackupProgress* progress);

}  // namespace stash::engine
