// LocalBackend: a repository in a local directory, in restic's layout
// (config, keys/, snapshots/, index/, locks/, data/00..ff/), byte-compatible
// with what restic's own local backend writes and reads.
//
// Saves are crash-safe: the data goes to an unnamed file in the target
// directory (O_TMPFILE), is fsynced, linked into place without replacing an
// existing file, and the directory is fsynced; the file is then read-only, as
// restic leaves it (0400, or 0440 when config is group-readable, as restic
// does for shared repositories). A process killed mid-upload leaves nothing
// behind. File systems without O_TMPFILE get "<name>-tmp-XXXXXX" files
// renamed into place instead; RemoveTemporaryFiles() clears what a crash
// left of those.
//
// Thread-safety: all methods may be called concurrently; the object keeps no
// mutable state besides the root path.
#pragma once

#include <string>

#include "stash/backend/backend.h"

namespace stash::backend {

class LocalBackend final : public Backend {
 public:
  // `root` is the repository directory; it need not exist before Create().
  explicit LocalBackend(std::string root, int connections = 2);

  std::string Location() const override { return "local:" + root_; }
  int Connections() const override { return connections_; }
  // A saved file is renamed into place and its directory fsynced first.
  bool ListsSavedFilesAtOnce() const override { return true; }
  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override;
  void Prefetch(const Handle& h, uint64_t offset, uint64_t length) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;
  Result<int> RemoveTemporaryFiles() override;

  const std::string& root() const { return root_; }

 private:
  std::string PathOf(const Handle& h) const { return root_ + "/" + h.Path(); }
  // True when config is group-readable: new files are then 0440, not 0400.
  bool GroupAccessible() const;
  Status ListDir(const std::string& dir, const std::function<Status(const FileInfo&)>& fn);

  std::string root_;
  int connections_;
};

}  // namespace stash::backend
