// Backup: the archiver. Walks the given paths as restic 0.14 does, splits
// changed files into content-defined chunks, stores new blobs through the
// Repository and writes tree blobs bottom-up and finally the snapshot.
//
//   BackupOptions o; o.paths = {"/srv/data"}; o.hostname = "h";
//   BackupProgress progress;                    // polled by the caller
//   auto stats = Backup(repo, o, clock, &progress, on_error);
//
// Pipeline: a walker thread lists directories and lstat()s entries; files
// that are new or changed since the parent snapshot (size, mtime, ctime,
// inode, type) go to reader threads that read large sequential blocks and
// run the chunker; finished chunks go to hasher threads that SHA-256 them and
// call Repository::SaveBlob (zstd + seal), whose upload threads write packs.
// Queues between the stages are bounded, so memory does not grow with file
// size or file count beyond the per-directory node lists. A directory's tree
// is encoded and saved when its last entry completes; the snapshot is saved
// only after Repository::Flush() (packs, then index, then snapshot).
//
// Thread-safety: Backup() is a blocking call; BackupProgress counters may be
// read from another thread while it runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/engine/lock.h"
#include "stash/engine/path_map.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct BackupOptions {
  std::vector<std::string> paths;  // as given on the command line
  std::string hostname;            // snapshot hostname
  std::string username;            // snapshot username (empty: current user)
  std::vector<std::string> tags;
  std::optional<SystemTime> time;  // snapshot time (default: now)
  // restic's rejection rules. Patterns match absolute paths (container paths
  // with a path map). `excludes` (--exclude) are also recorded in the
  // snapshot; `file_excludes` (--exclude-file) are not, as restic 0.14.
  std::vector<std::string> excludes;
  std::vector<std::string> file_excludes;
  std::vector<std::string> iexcludes;  // --iexclude(-file): ignore case
  // --exclude-if-present "name[:header]": a directory holding that file
  // (starting with header) keeps only the file itself. --exclude-caches is
  // "CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55".
  std::vector<std::string> exclude_if_present;
  std::optional<uint64_t> exclude_larger_than;  // bytes; never directories
  // -x: stay on the devices of the targets; mount points are kept, empty.
  bool one_file_system = false;
  // Change detection: --ignore-inode also ignores ctime (as restic).
  bool ignore_inode = false;
  bool ignore_ctime = false;
  // --stdin: back up what this descriptor yields as one file "/<name>"
  // (mode 0644, the snapshot time as its times); `paths` must be empty and
  // no parent is used.
  int stdin_fd = -1;
  std::string stdin_filename = "stdin";
  std::optional<Id> parent;  // explicit parent snapshot
  // The repository's index is loaded already, under the lock (a confirmed
  // BackupPreload): Backup does not load it again.
  bool index_loaded = false;
  // Container path → host directory (embedded node). `paths` and excludes
  // are container paths; files are read from the host directories and the
  // snapshot records the container paths and tree, as restic run inside the
  // container would. Directories above a mount that no mount covers take
  // the metadata of the first mount directory below them.
  PathMap path_map;
  bool force = false;  // read every file, ignore the parent
  bool with_atime = false;
  int read_concurrency = 2;  // reader threads
  int hash_threads = 0;      // 0: one per core
  // Warnings restic 0.14 prints and goes on (a tag file that exists but does
  // not carry its header; an extended attribute whose value cannot be read):
  // one line each, without newline, from the walker thread. They do not
  // count as errors.
  std::function<void(const std::string& message)> on_warning;
  // Set (from any thread) to stop the backup: reading and walking stop and
  // Backup() fails with kCancelled, writing no snapshot (a session's
  // timeOut, a stopped sidecar). Null: not stoppable.
  const std::atomic<bool>* cancel = nullptr;
  // Called once the parent snapshot is chosen (nullopt: none), before any
  // file is read, so a caller can say which one is used ("using parent
  // snapshot 1a2b3c4d") from the same search the backup uses.
  std::function<void(const std::optional<Id>& parent)> on_parent;
  // Test hook: counts file opens for content reading (STASH_DEBUG_COUNT_READS).
  std::atomic<uint64_t>* content_opens = nullptr;
};

// Live counters of a running backup, read by a ProgressMeter (progress.h)
// for a display, JSON status lines or a BackupSession's status.
struct BackupProgress {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> total_files{0};  // seen by the walker so far
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<bool> scan_finished{false};
  std::atomic<uint64_t> errors{0};

  // Files being read right now (restic's "current_files"), as shown.
  void StartFile(const std::string& path);
  void FinishFile(const std::string& path);
  std::vector<std::string> CurrentFiles() const;  // sorted

 private:
  mutable std::mutex files_mu_;
  std::multiset<std::string> current_files_;
};

struct BackupStats {
  uint64_t files_new = 0;
  uint64_t files_changed = 0;
  uint64_t files_unmodified = 0;
  uint64_t dirs_new = 0;
  uint64_t dirs_changed = 0;
  uint64_t dirs_unmodified = 0;
  uint64_t data_blobs = 0;
  uint64_t tree_blobs = 0;
  uint64_t data_added = 0;  // plaintext bytes of new blobs
  uint64_t data_added_packed = 0;
  uint64_t total_files_processed = 0;
  uint64_t total_bytes_processed = 0;
  uint64_t errors = 0;  // source entries that could not be read
  Id snapshot_id;
  std::optional<Id> parent;
  double seconds = 0;
};

// Called (from any pipeline thread, serialised) for each source entry that
// could not be read: `path` and the error ("open /x: permission denied").
using BackupErrorFn = std::function<void(const std::string& path, const Status& error)>;

// Runs a backup. Unreadable entries are reported through on_error, counted
// in stats.errors, and left out of the snapshot, which is still written.
// Errors of the repository (upload, index) fail the whole backup.
Result<BackupStats> Backup(repo::Repository& repo, const BackupOptions& opts, Clock& clock,
                           BackupProgress* progress, const BackupErrorFn& on_error);

// The snapshot a backup would use as parent, as restic 0.14 picks it: the
// latest one with the same hostname whose paths include all of `abs_paths`
// and that is not newer than `not_after` (the new snapshot's time). nullopt
// when none. Fails (kDataLoss "Error loading snapshot …") when a snapshot
// cannot be read, as restic's backup does, rather than pick an older parent.
Result<std::optional<Id>> FindParentSnapshot(repo::Repository& repo, const std::string& hostname,
                                             const std::vector<std::string>& abs_paths,
                                             std::optional<SystemTime> not_after = std::nullopt);

// What Backup reads before it walks — the index, and the parent snapshot
// unless one is given, forced off or the source is stdin — loaded ahead of
// time: while the lock settles (ScopedLock::Acquire's while_settling), so a
// backup to a remote store does not wait out restic's 200 ms and then start
// its reads. Errors are dropped: Backup then loads again and reports them.
struct BackupPreload {
  bool index_loaded = false;
  std::vector<Id> index_files;  // the index files loaded
  std::optional<Id> parent;     // found (no parent or an error: nullopt)
};
BackupPreload PreloadBackup(repo::Repository& repo, const BackupOptions& opts, SystemTime now);

// Once the lock is held: lists the index files again and, if they are still
// those preloaded (a prune that removed packs would have replaced them),
// sets opts->index_loaded and the preloaded parent. Otherwise leaves `opts`
// alone and Backup loads both anew. Fails only when the listing fails.
Status ConfirmPreload(repo::Repository& repo, const BackupPreload& preload, BackupOptions* opts);

// Takes the shared lock a backup holds (restic's), overlapping the store's
// round trips with it: the parent and the index are read while the lock
// settles, and their check (ConfirmPreload) goes with the last look for
// conflicting locks. On success `opts` carries what held (index_loaded, the
// parent); Backup reads the rest. Fails as ScopedLock::Acquire does, or with
// the index listing's error ("listing index files: ...").
Result<ScopedLock> LockForBackup(repo::Repository& repo, Clock& clock, const LockOwner& owner,
                                 const LockTiming& timing, BackupOptions* opts);

}  // namespace stash::engine
