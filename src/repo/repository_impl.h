// Private to repo: the Repository implementation. Open/Init and the read
// side live in repository.cc, the write side (packers, uploads, index files)
// in repository_write.cc.
//
// Thread-safety: as Repository. index_mu_ guards the blob index; pack_mu_
// the open packs and the pending-blob sets; upload_mu_ the upload queue and
// the not-yet-indexed packs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_set>

#include "blob_index.h"
#include "stash/crypto/key.h"
#include "stash/format/config.h"
#include "stash/format/index.h"
#include "stash/repo/repository.h"

namespace stash::repo {

class RepositoryImpl final : public Repository {
 public:
  RepositoryImpl(backend::BackendPtr backend, const Options& opts, crypto::Key master,
                 format::Config config, Id key_id);
  ~RepositoryImpl() override;

  backend::Backend& backend() override { return *backend_; }
  const Options& options() const override { return opts_; }
  uint64_t chunker_polynomial() const override { return config_.chunker_polynomial; }
  const std::string& repository_id() const override { return config_.id; }
  int format_version() const override { return static_cast<int>(config_.version); }
  std::string ConfigJson() const override { return format::EncodeConfig(config_); }
  std::string MasterKeyJson() const override;
  const Id& key_id() const override { return key_id_; }

  Result<Id> SaveUnpacked(backend::FileType type, std::string_view json) override;
  Result<std::string> LoadUnpacked(backend::FileType type, const Id& id) override;
  Result<std::vector<Id>> ListIds(backend::FileType type) override;
  Result<Id> ResolvePrefix(backend::FileType type, std::string_view prefix) override;

  Status LoadIndex() override;
  std::optional<BlobLocation> Lookup(BlobKind kind, const Id& id) const override;
  bool Has(BlobKind kind, const Id& id) const override;
  void ForEachBlob(const std::function<void(const Id&, const BlobLocation&)>& fn) const override;
  size_t IndexedBlobCount() const override;
  std::vector<Id> LoadedIndexFiles() const override;

  Result<std::vector<PackedBlob>> ListPack(const Id& pack, uint64_t size) override;
  Result<std::vector<uint8_t>> OpenBlob(const Id& id, const BlobLocation& loc,
                                        std::span<const uint8_t> sealed) override;
  Result<std::span<const uint8_t>> OpenBlobInPlace(const Id& id, const BlobLocation& loc,
                                                   std::span<uint8_t> sealed,
                                                   std::vector<uint8_t>* scratch) override;
  OpenedPair OpenBlobPairInPlace(const SealedBlob& a, const SealedBlob& b) override;
  Result<std::span<const uint8_t>> DecodeInPlace(const Id& id, const BlobLocation& loc,
                                                 std::span<uint8_t> sealed,
                                                 std::vector<uint8_t>* scratch);
  Result<std::vector<uint8_t>> LoadBlob(BlobKind kind, const Id& id) override;
  Result<bool> SaveBlob(BlobKind kind, const Id& id, std::span<const uint8_t> plaintext) override;
  Status Flush() override;
  Result<uint64_t> Repack(const std::vector<Id>& packs, const RepackFilter& keep) override;
  Result<std::vector<Id>> RebuildIndex(const std::set<Id>& drop_packs) override;

  uint64_t bytes_added_packed() const override { return bytes_added_packed_; }
  uint64_t bytes_added() const override { return bytes_added_; }

 private:
  // A pack being filled: sealed blobs back to back in a fixed buffer, so
  // hashers seal straight into their reserved slice without holding
  // pack_mu_ and without a copy; `writers` counts slices still being sealed.
  // Once closed (full, or at Flush) the last writer hands it to the uploaders.
  // Pack memory is page-aligned: a local store can then write the pack
  // straight from it to the disk (direct I/O) instead of copying it into
  // the page cache.
  struct PageFree {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  using PackBuffer = std::unique_ptr<uint8_t[], PageFree>;
  static PackBuffer NewPackBuffer(size_t size);
  struct OpenPack {
    PackBuffer buf;
    size_t capacity = 0;
    size_t size = 0;
    std::vector<format::IndexPackBlob> blobs;  // offsets from the pack's start
    int writers = 0;
    bool closed = false;
  };
  using PackPtr = std::shared_ptr<OpenPack>;
  struct PendingKey {
    Id id;
    BlobKind kind;
    friend bool operator==(const PendingKey&, const PendingKey&) = default;
  };
  struct PendingHash {
    size_t operator()(const PendingKey& k) const {
      return IdHash{}(k.id) ^ static_cast<size_t>(k.kind);
    }
  };

  // What SaveBlob and Repack store for a plaintext: zstd at the
  // repository's level (in the calling thread's scratch, valid until its next
  // call), or the plaintext itself when compression is off for this kind or
  // (unless `always`) does not pay.
  struct Payload {
    std::span<const uint8_t> bytes;
    uint32_t uncompressed_length = 0;  // 0: stored raw
  };
  Payload Compress(BlobKind kind, std::span<const uint8_t> plaintext, bool always);
  // Saves `packs` as index files of at most 50,000 blobs each; *written gets
  // the id of every file saved, also when a later one fails.
  Status SaveIndexFiles(std::vector<format::IndexPack> packs, std::vector<Id>* written);
  void StartUploaders();
  void UploadLoop();
  Status UploadPack(OpenPack& pack);
  // A new open pack for `kind` with room for at least `need` bytes (blob
  // plus header); pack_mu_ held through `lock`. May wait for a buffer to
  // come back from an upload; returns null when another thread opened a
  // pack of `kind` meanwhile.
  PackPtr NewPack(std::unique_lock<std::mutex>& lock, BlobKind kind, size_t need);
  // Reserves `len` bytes for one blob in the open pack of `kind` (which
  // has room), closing it when it reached the target size; pack_mu_ held.
  PackPtr Reserve(BlobKind kind, size_t len, format::IndexPackBlob entry, size_t* offset);
  // Appends one blob of entry.length sealed bytes to the open pack of its
  // kind: `fill` writes them into the reserved slice (sealing, or copying
  // bytes already sealed) without holding pack_mu_. Full packs go to the
  // uploaders.
  Status Place(const format::IndexPackBlob& entry, const std::function<void(uint8_t*)>& fill);
  // pack_mu_ held: drops one writer; returns the pack when it is closed and
  // complete, for the caller to Enqueue outside the lock.
  PackPtr Release(const PackPtr& p);
  // Queues a complete pack for upload, waiting while the queue is full.
  Status Enqueue(PackPtr pack);
  void RecycleBuffer(OpenPack& pack);
  // Writes index files for packs uploaded but not yet indexed; `all` false:
  // only when enough blobs or time have accumulated.
  Status WriteIndexes(bool all);
  Status UploadError() const;

  backend::BackendPtr backend_;
  Options opts_;
  crypto::Key master_;
  format::Config config_;
  Id key_id_;

  mutable std::shared_mutex index_mu_;
  BlobIndex index_;
  std::vector<Id> index_files_;

  std::mutex pack_mu_;
  PackPtr open_[2];  // by BlobKind
  std::unordered_set<PendingKey, PendingHash> pending_;
  int sealing_packs_ = 0;  // closed packs whose writers are still sealing
  std::condition_variable sealed_cv_;
  // Uploaded packs' buffers, reused so steady-state writes touch no fresh
  // memory (a page fault per 4 KiB is a large share of a backup's CPU).
  std::vector<PackBuffer> free_bufs_;
  size_t live_bufs_ = 0;  // standard-size pack buffers allocated
  std::condition_variable buffer_cv_;

  mutable std::mutex upload_mu_;
  std::condition_variable upload_cv_;
  std::deque<PackPtr> queue_;
  int uploading_ = 0;
  bool stopping_ = false;
  Status upload_error_;
  std::vector<std::thread> uploaders_;
  std::vector<format::IndexPack> unindexed_;
  size_t unindexed_blobs_ = 0;
  SystemTime last_index_write_{};
  std::mutex index_write_mu_;  // one index writer at a time

  std::atomic<uint64_t> bytes_added_{0};
  std::atomic<uint64_t> bytes_added_packed_{0};
};

}  // namespace stash::repo
