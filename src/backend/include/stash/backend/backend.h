// Backend: where repository files live. One narrow interface (save, load with
// a byte range, stat, list, remove) that every store implements — local
// directory, restic REST server, S3, GCS, Azure Blob — and that decorators
// (retry, connection limit) wrap.
//
// Files are immutable and content-addressed (except `config`): a name is
// written once and never changed; only forget/prune and lock refresh delete.
//
// Thread-safety: every Backend implementation must be safe for concurrent
// calls from many threads; Connections() tells callers how many requests it is
// sensible to keep in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::backend {

// The kinds of files in a restic repository, and their directory names.
enum class FileType { kConfig, kKey, kSnapshot, kIndex, kLock, kPack };

// "config", "keys", "snapshots", "index", "locks", "data".
std::string_view FileTypeDir(FileType t);

// Whether files of type `t` are named by the SHA-256 of their bytes: all but
// the config, so two files of one name hold the same bytes.
constexpr bool NamedByContent(FileType t) { return t != FileType::kConfig; }

struct Handle {
  FileType type;
  std::string name;  // 64 hex digits; "config" for the config file
  // A pack that holds tree blobs (restic's ContainedBlobType == TreeBlob):
  // a local cache keeps such packs whole, as it keeps index and snapshot
  // files, so a backup reads its parent's trees without a download.
  bool tree_pack = false;

  // Path relative to the repository root in restic's default layout:
  // "config", "keys/<id>", "data/<id[0:2]>/<id>", ...
  std::string Path() const;
  // For messages: "data/3f2a1b2c…", never containing credentials.
  std::string ToString() const;
};

struct FileInfo {
  std::string name;
  uint64_t size = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Human-readable location for messages and logs ("local:/srv/repo",
  // "s3:host/bucket/prefix"); never contains secrets.
  virtual std::string Location() const = 0;

  // Sensible number of concurrent requests (restic: local 2, others 5).
  virtual int Connections() const = 0;

  // Whether a List() started after a Save() returned always includes the
  // saved file. Locking then needs no settle wait (restic waits 200 ms for
  // stores that list late). Unknown stores say no.
  virtual bool ListsSavedFilesAtOnce() const { return false; }

  // Whether Save()'s "fails when `h` exists" is atomic: of two concurrent
  // Saves of one name exactly one succeeds (a local link, GCS
  // ifGenerationMatch=0, Azure If-None-Match). Stores that can only look
  // first (S3 without conditional writes, a REST server) say no; repository
  // initialisation then reads the config back to learn whether it won.
  virtual bool CreatesAtomically() const { return true; }

  // Creates what the store needs before the first Save (directories, bucket).
  // Succeeds when it already exists.
  virtual Status Create() = 0;

  // Stores `data` under `h` atomically: afterwards the file is complete or
  // absent, even after a crash. Fails with kAlreadyExists when `h` exists —
  // always for the config. Every other file is named by the SHA-256 of its
  // bytes (NamedByContent), so a file of that name holds the same bytes and
  // writing it again changes nothing: a store that cannot refuse in the same
  // request (S3 without conditional writes, a REST server) may overwrite it
  // rather than spend a round trip looking first, as restic does.
  virtual Status Save(const Handle& h, std::span<const uint8_t> data) = 0;

  // Reads `length` bytes from `offset` (length 0: to the end of the file) into
  // *out (replacing its contents). kNotFound when the file does not exist;
  // kDataLoss/kInvalid when the range lies outside the file.
  virtual Status Load(const Handle& h, uint64_t offset, uint64_t length,
                      std::vector<uint8_t>* out) = 0;

  // Load() for a caller that reads a range once and gains nothing from the
  // operating system keeping a copy (restore reading packs): a local store
  // then reads straight into *buf (O_DIRECT), skipping the page cache and its
  // copy. Returns where in *buf the bytes are — not necessarily its start,
  // as direct reads need an aligned address. The default is Load().
  virtual Result<std::span<uint8_t>> LoadUncached(const Handle& h, uint64_t offset, uint64_t length,
                                                  std::vector<uint8_t>* buf) {
    STASH_RETURN_IF_ERROR(Load(h, offset, length, buf));
    return std::span<uint8_t>(buf->data(), buf->size());
  }

  // A hint that [offset, offset+length) of `h` will be loaded soon: a local
  // store starts reading it into the page cache in the background, so the
  // disk stays busy while the caller works on what it already has. Returns at
  // once; errors surface at the Load. The default does nothing.
  virtual void Prefetch(const Handle& h, uint64_t offset, uint64_t length) {
    (void)h, (void)offset, (void)length;
  }

  // Size of a file; kNotFound when it does not exist.
  virtual Result<FileInfo> Stat(const Handle& h) = 0;

  // Calls fn for every file of type t, in no particular order. Stops and
  // returns fn's error when fn fails.
  virtual Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) = 0;

  // Removes a file; kNotFound when it does not exist, or Ok where the store
  // cannot tell without another round trip (S3 answers 204 either way).
  // Callers treat both as "gone".
  virtual Status Remove(const Handle& h) = 0;

  // Removes what interrupted Saves left behind (a local store's temporary
  // files from before it wrote through O_TMPFILE, or on a file system
  // without it) and returns how many. Only safe while no Save runs: prune
  // calls it under its exclusive lock. Stores whose uploads are atomic have
  // nothing to remove.
  virtual Result<int> RemoveTemporaryFiles() { return 0; }
};

using BackendPtr = std::unique_ptr<Backend>;

}  // namespace stash::backend
