// Repository: an open restic repository (format v2) on a Backend.
//
// It owns the master key, the config, the in-memory index of every blob, and
// the packers that group new blobs into pack files. It is the only layer that
// knows how files are sealed (crypto), compressed (zstd) and framed (the
// documents of `format`, whose types it uses).
//
//   auto repo = Repository::Open(std::move(backend), password, opts);   // tries each key
//   STASH_RETURN_IF_ERROR(repo->LoadIndex());
//   auto tree = repo->LoadBlob(BlobType::kTree, id);
//   repo->SaveBlob(BlobType::kData, id, plaintext);  ...  repo->Flush();
//
// Write ordering (crash safety, as restic): packs are uploaded before the
// index files that name them, and the index before any snapshot that needs
// it. Flush() completes all of this; a crash before Flush() leaves only
// unreferenced packs, which `check` tolerates and prune removes.
//
// Thread-safety: all methods are safe to call concurrently (backup runs many
// SaveBlob callers; restore many LoadBlob callers), except Open/Init.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "stash/backend/backend.h"
#include "stash/core/clock.h"
#include "stash/core/id.h"
#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/format/blob.h"

namespace stash::repo {

// The kind of a blob is format's BlobType (kData, kTree) under the name the
// layers above have always used.
using BlobKind = format::BlobType;

enum class Compression { kAuto, kOff, kMax };

struct Options {
  Compression compression = Compression::kAuto;
  uint64_t pack_size = 16ull << 20;  // target pack size (restic --pack-size, 4..128 MiB)
  // scrypt parameters for new keys (Init / key add). Tests lower N.
  uint64_t scrypt_n = 32768;
  uint32_t scrypt_r = 8;
  uint32_t scrypt_p = 1;
  std::string hostname;  // for key files and locks; empty = gethostname()
  std::string username;  // empty = current user
  // Key file tried first when opening (restic --key-hint): a key id or prefix.
  std::string key_hint;
  // During a long write, an index file is also written once this much time
  // has passed since the last one (or 50,000 blobs are pending), so a backup
  // killed midway leaves indexed packs the next backup reuses.
  Duration index_max_age = std::chrono::seconds(30);
  // Called after each LoadIndex with the names of the packs that hold tree
  // blobs (a local cache drops the packs it keeps that are no longer among
  // them). Not called when empty.
  std::function<void(const std::unordered_set<std::string>& tree_packs)> on_index_loaded;
  Clock* clock = nullptr;    // required
  Random* random = nullptr;  // required
};

// Where a blob lives.
struct BlobLocation {
  Id pack;
  BlobKind kind;
  uint32_t offset = 0;
  uint32_t length = 0;               // sealed length in the pack
  uint32_t uncompressed_length = 0;  // 0 when stored uncompressed
  uint32_t PlainLength() const { return uncompressed_length ? uncompressed_length : length - 32; }
};

class Repository {
 public:
  virtual ~Repository() = default;

  // Creates a new repository (config v2, fresh polynomial, one key for
  // `password`). kAlreadyExists when a config file is already there.
  static Result<std::unique_ptr<Repository>> Init(backend::BackendPtr backend,
                                                  std::string_view password, const Options& opts);
  // Opens an existing repository by trying each key file with `password`.
  // kNotFound "repository does not exist" when there is no config;
  // kUnauthorized "wrong password or no key found" when no key opens.
  static Result<std::unique_ptr<Repository>> Open(backend::BackendPtr backend,
                                                  std::string_view password, const Options& opts);

  virtual backend::Backend& backend() = 0;
  virtual const Options& options() const = 0;
  virtual uint64_t chunker_polynomial() const = 0;
  virtual const std::string& repository_id() const = 0;  // config "id"
  virtual int format_version() const = 0;                // 1 or 2
  // Plaintext JSON of the config and of the master key (`cat config`,
  // `cat masterkey`), and the id of the key file that opened the repository.
  virtual std::string ConfigJson() const = 0;
  virtual std::string MasterKeyJson() const = 0;
  virtual const Id& key_id() const = 0;

  // --- unpacked files: snapshots, index, locks (JSON, v2: 0x02+zstd, sealed)
  // Stores the document; its name is the SHA-256 of the stored bytes.
  virtual Result<Id> SaveUnpacked(backend::FileType type, std::string_view json) = 0;
  // Loads, authenticates, decompresses and returns the JSON text.
  virtual Result<std::string> LoadUnpacked(backend::FileType type, const Id& id) = 0;
  // Lists ids of a file type (as stored names).
  virtual Result<std::vector<Id>> ListIds(backend::FileType type) = 0;
  // Resolves a unique prefix of an id of `type` (restic accepts short ids).
  virtual Result<Id> ResolvePrefix(backend::FileType type, std::string_view prefix) = 0;

  // --- index
  // Loads every index file into memory; again: only files added since (or all).
  virtual Status LoadIndex() = 0;
  virtual std::optional<BlobLocation> Lookup(BlobKind kind, const Id& id) const = 0;
  virtual bool Has(BlobKind kind, const Id& id) const = 0;
  // Calls fn for every indexed blob (all copies).
  virtual void ForEachBlob(const std::function<void(const Id&, const BlobLocation&)>& fn) const = 0;
  // Number of indexed blobs (all copies) and the ids of the index files loaded.
  virtual size_t IndexedBlobCount() const = 0;
  virtual std::vector<Id> LoadedIndexFiles() const = 0;

  // --- packs (check, restore and prune read packs directly)
  struct PackedBlob {
    Id id;
    BlobLocation location;  // location.pack is the pack's id
  };
  // Reads and authenticates the header of pack `pack` (size: its file size,
  // 0 = stat it). kDataLoss names the pack when the header is malformed.
  virtual Result<std::vector<PackedBlob>> ListPack(const Id& pack, uint64_t size) = 0;
  // Authenticates, decrypts and decompresses one sealed blob read from a pack
  // at `loc` (sealed.size() == loc.length); verifies SHA-256 == id.
  virtual Result<std::vector<uint8_t>> OpenBlob(const Id& id, const BlobLocation& loc,
                                                std::span<const uint8_t> sealed) = 0;
  // As OpenBlob without allocating: decrypts `sealed` in place (it is
  // overwritten) and decompresses into *scratch, which only grows and is
  // meant to be reused by the caller. The span points into `sealed` or
  // *scratch and stays valid until either is touched again.
  virtual Result<std::span<const uint8_t>> OpenBlobInPlace(const Id& id, const BlobLocation& loc,
                                                           std::span<uint8_t> sealed,
                                                           std::vector<uint8_t>* scratch) = 0;
  // One blob for OpenBlobPairInPlace, with its own scratch.
  struct SealedBlob {
    Id id;
    BlobLocation loc;
    std::span<uint8_t> sealed;
    std::vector<uint8_t>* scratch;
  };
  using OpenedPair = std::pair<Result<std::span<const uint8_t>>, Result<std::span<const uint8_t>>>;
  // OpenBlobInPlace for two blobs at once: both ids are checked in one
  // two-lane SHA-256 pass, ~1.7x the speed of two (the check is a third of
  // a restore's CPU). Each blob gets its own result.
  virtual OpenedPair OpenBlobPairInPlace(const SealedBlob& a, const SealedBlob& b) = 0;

  // --- blobs
  // Loads, authenticates, decompresses and verifies the id of a blob.
  virtual Result<std::vector<uint8_t>> LoadBlob(BlobKind kind, const Id& id) = 0;
  // Adds a blob (plaintext, id = SHA-256(plaintext) computed by the caller)
  // unless the index or a pending pack already has it. Returns true when the
  // blob was new (its data counts as added). Compression and sealing run on
  // the calling thread (callers are already parallel); pack uploads run on
  // the repository's upload threads, and SaveBlob blocks while too many
  // finished packs wait for upload (bounded memory). Upload errors surface
  // in a later SaveBlob or at Flush().
  virtual Result<bool> SaveBlob(BlobKind kind, const Id& id,
                                std::span<const uint8_t> plaintext) = 0;
  // Uploads all pending packs, then writes index files for them. After it
  // returns OK every saved blob is durable and indexed.
  virtual Status Flush() = 0;

  // --- maintenance (prune; the caller holds an exclusive lock)
  // Decides, for each blob of a pack being repacked, whether to copy it.
  // Called once per indexed blob of the packs, from one thread at a time.
  using RepackFilter = std::function<bool(BlobKind kind, const Id& id)>;
  // Copies the blobs of `packs` that `keep` accepts into new packs. Every
  // blob's MAC and id are checked before it is copied (a damaged blob is
  // never copied: kDataLoss names it); its sealed bytes are copied as they
  // are, or, when it is stored uncompressed where this repository would
  // compress it (trees in v2; data unless compression is off), compressed and
  // sealed anew, so uncompressed packs converge. Returns after the new packs
  // are uploaded and indexed (as Flush); the old packs stay until the caller
  // drops them with RebuildIndex and deletes them. Returns the blobs copied.
  virtual Result<uint64_t> Repack(const std::vector<Id>& packs, const RepackFilter& keep) = 0;
  // Writes new index files that list every indexed blob except those of
  // `drop_packs`, and makes that the in-memory index. Returns the index files
  // this replaces (all loaded or written before): the caller deletes them, and
  // then the dropped packs. Until it does, the repository holds duplicates,
  // which is safe (restic's rebuildIndexFiles order).
  virtual Result<std::vector<Id>> RebuildIndex(const std::set<Id>& drop_packs) = 0;

  // Bytes of new packs written so far (data_added_packed) and of new blob
  // plaintext (data_added).
  virtual uint64_t bytes_added_packed() const = 0;
  virtual uint64_t bytes_added() const = 0;
};

}  // namespace stash::repo
