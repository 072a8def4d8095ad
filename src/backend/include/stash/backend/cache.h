// CacheBackend: restic's local cache for a remote repository. Index and
// snapshot files and packs of tree blobs are kept whole in a directory on
// this machine, so a backup that changes nothing reads almost nothing from
// the store: it still lists snapshots and index files (the truth lives in
// the store) but loads them, and the parent's trees, from the cache.
//
// Layout, as restic 0.14's: <base>/CACHEDIR.TAG, <base>/<repository id>/
// {version ("1"), snapshots/<id>, index/<id>, data/<id[0:2]>/<id>}, mode 0700
// directories. The repository directory's mtime is refreshed at every open;
// directories not opened for 30 days are "old" (OldCacheDirs; restic's
// --cleanup-cache removes them).
//
// Correctness: files in a restic repository are content-addressed and never
// change under a name, so a cached copy is either right or absent. A copy is
// written only after its SHA-256 matched its name, through a temporary file
// and rename(2), so concurrent processes sharing the directory see whole
// files or none; a copy that disappears under a reader (another process
// cleaned it) is read from the store instead. When the store changes under
// the cache (forget/prune by another client), listing snapshots or index
// files drops the cached ones no longer listed, and KeepOnlyPacks() (called
// with the tree packs of a freshly loaded index) drops packs prune removed.
// A Remove() or a Stat() that finds the file gone drops its copy too.
//
// Until Attach() names the directory (the repository id is known only once
// the config is decrypted) every call passes through.
//
// Thread-safety: thread-safe; the wrapped backend must be too. Concurrent
// loads of one uncached file in this process download it once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "stash/backend/forwarding.h"
#include "stash/core/clock.h"

namespace stash::backend {

// restic's default cache base: $RESTIC_CACHE_DIR, else $XDG_CACHE_HOME/restic,
// else $HOME/.cache/restic (Go's os.UserCacheDir on Linux). kNotFound when
// none of them is set.
Result<std::string> DefaultCacheDir(const std::map<std::string, std::string>& env);

// restic's MaxCacheAge: a repository cache not used for this long is old.
inline constexpr Duration kMaxCacheAge = std::chrono::hours(30 * 24);

// Names (not paths) of the repository cache directories under `base` whose
// mtime is older than now - max_age: 64 hex digits or restic-check-cache-N.
// Empty when `base` does not exist.
Result<std::vector<std::string>> OldCacheDirs(const std::string& base, SystemTime now,
                                              Duration max_age = kMaxCacheAge);

// Removes a directory tree (a cache directory); missing is fine.
Status RemoveTree(const std::string& path);

class CacheBackend final : public ForwardingBackend {
 public:
  explicit CacheBackend(BackendPtr inner);

  // Starts caching in <base>/<repository_id> (creating it and <base>'s
  // CACHEDIR.TAG as needed) and sets that directory's mtime to `now`.
  // Returns whether the repository's directory was created. Fails with
  // kFailedPrecondition when the directory holds a newer cache version.
  Result<bool> Attach(const std::string& base, const std::string& repository_id, SystemTime now);
  bool attached() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

  // Drops cached packs whose names are not in `tree_packs` (the packs that
  // hold tree blobs in the index just loaded). Best effort.
  void KeepOnlyPacks(const std::unordered_set<std::string>& tree_packs);

  // Loads served from the cache and files downloaded into it (for tests).
  uint64_t hits() const { return hits_; }
  uint64_t fills() const { return fills_; }

  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                          std::vector<uint8_t>* buf) override;
  void Prefetch(const Handle& h, uint64_t offset, uint64_t length) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

 private:
  static bool Cacheable(const Handle& h);
  std::string PathOf(const Handle& h) const;
  // Reads [offset, offset+length) of the cached copy; false when there is
  // none (or it vanished, or is shorter than the range).
  bool ReadCached(const Handle& h, uint64_t offset, uint64_t length, std::vector<uint8_t>* out);
  // Writes a verified copy atomically; best effort.
  void WriteCached(const Handle& h, std::span<const uint8_t> data);
  void DropCached(const Handle& h);
  // Downloads `h` whole once per process at a time; `*whole` gets the bytes
  // when this call downloaded them, stays empty when another did.
  Status Fill(const Handle& h, std::vector<uint8_t>* whole, bool* downloaded);
  void DropUnlisted(FileType t, const std::unordered_set<std::string>& listed);

  std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> downloading_;  // Handle::Path() of fills in flight
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> fills_{0};
  std::atomic<uint64_t> tmp_seq_{0};
};

}  // namespace stash::backend
