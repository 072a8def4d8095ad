// The write side of RepositoryImpl: unpacked files, packers, pack uploads on
// worker threads and index files written after their packs.
#include <cstring>

#include "repository_impl.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"
#include "zstd_util.h"

namespace stash::repo {

namespace {

using backend::FileType;
using backend::Handle;

constexpr size_t kIndexMaxBlobs = 50000;  // restic's blobs per index file
constexpr int kZstdAuto = 3;
constexpr int kZstdMax = 11;  // restic's SpeedBestCompression

int KindSlot(BlobKind k) { return k == BlobKind::kTree ? 1 : 0; }

// Thread-local scratch buffers: compressing and sealing reuse them, so the
// hot path allocates nothing per blob.
struct Scratch {
  std::vector<uint8_t> compressed;
  std::vector<uint8_t> sealed;
};
Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

RepositoryImpl::~RepositoryImpl() {
  {
    std::lock_guard lock(upload_mu_);
    stopping_ = true;
  }
  upload_cv_.notify_all();
  for (auto& t : uploaders_) t.join();
}

Result<Id> RepositoryImpl::SaveUnpacked(FileType type, std::string_view json) {
  std::vector<uint8_t> plain;
  std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  if (config_.version >= 2) {
    std::vector<uint8_t> z;
    ZstdCompress(in, kZstdAuto, &z);
    plain.reserve(z.size() + 1);
    plain.push_back(2);
    plain.insert(plain.end(), z.begin(), z.end());
  } else {
    plain.assign(in.begin(), in.end());
  }
  std::vector<uint8_t> sealed = crypto::Seal(master_, *opts_.random, plain);
  Id id = crypto::Sha256(sealed);
  Status s = backend_->Save(Handle{type, id.Hex()}, sealed);
  if (!s.ok() && s.code() != Code::kAlreadyExists) return s;
  return id;
}

Status RepositoryImpl::UploadError() const {
  std::lock_guard lock(upload_mu_);
  return upload_error_;
}

Result<bool> RepositoryImpl::SaveBlob(BlobKind kind, const Id& id,
                                      std::span<const uint8_t> plaintext) {
  STASH_RETURN_IF_ERROR(UploadError());
  if (Has(kind, id)) return false;
  {
    std::lock_guard lock(pack_mu_);
    if (!pending_.insert(PendingKey{id, kind}).second) return false;
  }
  Scratch& s = ThreadScratch();
  std::span<const uint8_t> payload = plaintext;
  uint32_t uncompressed_length = 0;
  bool compress = config_.version >= 2 && !plaintext.empty() &&
                  (kind == BlobKind::kTree || opts_.compression != Compression::kOff);
  if (compress) {
    int level = opts_.compression == Compression::kMax ? kZstdMax : kZstdAuto;
    ZstdCompress(plaintext, level, &s.compressed);
    // Storing incompressible data raw is legal and makes restores cheaper.
    if (!s.compressed.empty() && s.compressed.size() < plaintext.size()) {
      payload = s.compressed;
      uncompressed_length = static_cast<uint32_t>(plaintext.size());
    }
  }
  s.sealed.resize(payload.size() + crypto::kSealOverhead);
  crypto::Seal(master_, *opts_.random, payload, s.sealed.data());
  bytes_added_ += plaintext.size();

  std::optional<OpenPack> full;
  {
    std::lock_guard lock(pack_mu_);
    OpenPack& p = open_[KindSlot(kind)];
    if (p.data.capacity() == 0) p.data.reserve(opts_.pack_size + (1u << 20));
    codec::IndexEntry e;
    e.id = id;
    e.kind = kind;
    e.offset = static_cast<uint32_t>(p.data.size());
    e.length = static_cast<uint32_t>(s.sealed.size());
    e.uncompressed_length = uncompressed_length;
    p.data.insert(p.data.end(), s.sealed.begin(), s.sealed.end());
    p.blobs.push_back(e);
    if (p.data.size() >= opts_.pack_size || p.blobs.size() >= 100000) {
      full = std::move(p);
      p = OpenPack{};
    }
  }
  if (full) STASH_RETURN_IF_ERROR(Enqueue(std::move(*full)));
  return true;
}

void RepositoryImpl::StartUploaders() {
  // Called with upload_mu_ held.
  if (!uploaders_.empty()) return;
  int n = std::max(1, backend_->Connections());
  for (int i = 0; i < n; ++i) uploaders_.emplace_back([this] { UploadLoop(); });
}

Status RepositoryImpl::Enqueue(OpenPack pack) {
  std::unique_lock lock(upload_mu_);
  StartUploaders();
  // A finished pack waits only for a free uploader: memory stays bounded at
  // (uploaders + open packs) × pack size.
  size_t limit = uploaders_.size();
  upload_cv_.wait(lock, [&] {
    return queue_.size() + static_cast<size_t>(uploading_) < limit || !upload_error_.ok();
  });
  if (!upload_error_.ok()) return upload_error_;
  queue_.push_back(std::move(pack));
  upload_cv_.notify_all();
  return Status::Ok();
}

void RepositoryImpl::UploadLoop() {
  while (true) {
    OpenPack pack;
    {
      std::unique_lock lock(upload_mu_);
      upload_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      pack = std::move(queue_.front());
      queue_.pop_front();
      ++uploading_;
      upload_cv_.notify_all();
    }
    Status s = UploadPack(std::move(pack));
    if (s.ok()) s = WriteIndexes(false);
    std::lock_guard lock(upload_mu_);
    --uploading_;
    if (!s.ok() && upload_error_.ok()) upload_error_ = s;
    upload_cv_.notify_all();
  }
}

Status RepositoryImpl::UploadPack(OpenPack pack) {
  std::vector<uint8_t> header = codec::EncodePackHeader(pack.blobs);
  size_t at = pack.data.size();
  pack.data.resize(at + header.size() + crypto::kSealOverhead + 4);
  crypto::Seal(master_, *opts_.random, header, pack.data.data() + at);
  uint32_t hlen = static_cast<uint32_t>(header.size() + crypto::kSealOverhead);
  uint8_t* t = pack.data.data() + pack.data.size() - 4;
  t[0] = hlen & 0xff;
  t[1] = (hlen >> 8) & 0xff;
  t[2] = (hlen >> 16) & 0xff;
  t[3] = hlen >> 24;
  Id pack_id = crypto::Sha256(pack.data);
  Status s = backend_->Save(Handle{FileType::kPack, pack_id.Hex()}, pack.data);
  // The same bytes under the same name: a previous run already stored them.
  if (!s.ok() && s.code() != Code::kAlreadyExists) {
    return s.Prepend("saving pack " + pack_id.ShortHex());
  }
  bytes_added_packed_ += pack.data.size();
  {
    std::unique_lock lock(index_mu_);
    uint32_t n = index_.AddPack(pack_id);
    for (const auto& b : pack.blobs) {
      index_.Add(b.id, b.kind, n, b.offset, b.length, b.uncompressed_length);
    }
  }
  {
    std::lock_guard lock(pack_mu_);
    for (const auto& b : pack.blobs) pending_.erase(PendingKey{b.id, b.kind});
  }
  std::lock_guard lock(upload_mu_);
  unindexed_blobs_ += pack.blobs.size();
  unindexed_.push_back(codec::IndexPack{pack_id, std::move(pack.blobs)});
  return Status::Ok();
}

Status RepositoryImpl::WriteIndexes(bool all) {
  std::lock_guard writer(index_write_mu_);
  std::vector<codec::IndexPack> packs;
  {
    std::lock_guard lock(upload_mu_);
    SystemTime now = opts_.clock->Now();
    bool due = unindexed_blobs_ >= kIndexMaxBlobs ||
               (!unindexed_.empty() && now - last_index_write_ >= opts_.index_max_age);
    if (!all && !due) return Status::Ok();
    packs.swap(unindexed_);
    unindexed_blobs_ = 0;
    last_index_write_ = now;
  }
  size_t i = 0;
  while (i < packs.size()) {
    std::vector<codec::IndexPack> file;
    size_t blobs = 0;
    while (i < packs.size() && (file.empty() || blobs + packs[i].blobs.size() <= kIndexMaxBlobs)) {
      blobs += packs[i].blobs.size();
      file.push_back(std::move(packs[i++]));
    }
    auto id = SaveUnpacked(FileType::kIndex, codec::EncodeIndex(file));
    if (!id.ok()) return Status(id.status()).Prepend("saving index");
    std::unique_lock lock(index_mu_);
    index_files_.push_back(*id);
  }
  return Status::Ok();
}

Status RepositoryImpl::Flush() {
  for (BlobKind kind : {BlobKind::kData, BlobKind::kTree}) {
    std::optional<OpenPack> p;
    {
      std::lock_guard lock(pack_mu_);
      OpenPack& open = open_[KindSlot(kind)];
      if (!open.blobs.empty()) {
        p = std::move(open);
        open = OpenPack{};
      }
    }
    if (p) STASH_RETURN_IF_ERROR(Enqueue(std::move(*p)));
  }
  {
    std::unique_lock lock(upload_mu_);
    upload_cv_.wait(lock, [&] { return queue_.empty() && uploading_ == 0; });
    if (!upload_error_.ok()) return upload_error_;
  }
  return WriteIndexes(true);
}

}  // namespace stash::repo
