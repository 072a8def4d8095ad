// The write side of RepositoryImpl: unpacked files, packers, pack uploads on
// worker threads and index files written after their packs.
#include <cstring>
#include <new>

#include "repository_impl.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"
#include "stash/format/pack.h"
#include "zstd_util.h"

namespace stash::repo {

namespace {

using backend::FileType;
using backend::Handle;

constexpr size_t kIndexMaxBlobs = 50000;  // restic's blobs per index file
constexpr int kZstdAuto = 3;              // index, snapshot and lock files
// Blobs under --compression auto: zstd level 2 took 25% less CPU for the
// whole backup of a 1 GiB tar of /usr/lib than level 3 (6.77 -> 5.08 s) for
// 2.6% more bytes, which leaves the repository 1.8% larger than restic
// 0.14's (klauspost's SpeedDefault), within the 3% asked; level 1 stored
// ~5% more than level 3.
constexpr int kZstdAutoBlob = 2;
constexpr int kZstdMax = 11;  // restic's SpeedBestCompression

int KindSlot(BlobKind k) { return k == BlobKind::kTree ? 1 : 0; }

// Room a pack needs beyond its blobs for a header of `blobs` entries: the
// largest entries, the seal and the 4-byte length.
size_t HeaderBound(size_t blobs) {
  return blobs * format::kCompressedPackEntrySize + format::kSealOverhead +
         format::kPackTrailerSize;
}

// A pack buffer holds the target size plus this: a blob that would not fit
// closes the pack and starts the next one, so packs end near the target
// (restic lets the last blob overshoot by up to 8 MiB) and the buffers, all
// kept for reuse, stay small. A blob larger than a whole buffer gets its own.
constexpr size_t kPackSlack = 256u << 10;

// Thread-local compression scratch: grows to the largest blob a thread has
// seen and is reused, so the hot path allocates nothing per blob.
struct Scratch {
  std::unique_ptr<uint8_t[]> buf;
  size_t capacity = 0;
  uint8_t* Reserve(size_t n) {
    if (n > capacity) {
      buf.reset(new uint8_t[n]);
      capacity = n;
    }
    return buf.get();
  }
};
Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

// True when three samples of a large blob (start, middle, end) all fail to
// compress by even 2%: then the whole blob is almost surely random or
// already compressed, and zstd over all of it would only burn CPU (and
// touch a scratch buffer as large as the blob) to be stored raw anyway.
// A mixed blob has some sample that compresses, and gets the full attempt.
bool LooksIncompressible(std::span<const uint8_t> data, int level) {
  constexpr size_t kSample = 16 << 10;
  if (data.size() < 16 * kSample) return false;
  uint8_t out[kSample + 1024];
  for (size_t at : {size_t{0}, data.size() / 2 - kSample / 2, data.size() - kSample}) {
    size_t n = ZstdCompressTo(data.subspan(at, kSample), level, out, sizeof out);
    if (n > 0 && n < kSample - kSample / 50) return false;
  }
  return true;
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

RepositoryImpl::PackBuffer RepositoryImpl::NewPackBuffer(size_t size) {
  constexpr size_t kPage = 4096;
  // Uninitialised: the bytes are written before they are read, and pages
  // are touched only as blobs land in them.
  void* p = std::aligned_alloc(kPage, (size + kPage - 1) / kPage * kPage);
  if (!p) throw std::bad_alloc();
  return PackBuffer(static_cast<uint8_t*>(p));
}

RepositoryImpl::PackPtr RepositoryImpl::NewPack(std::unique_lock<std::mutex>& lock, BlobKind kind,
                                                size_t need) {
  auto p = std::make_shared<OpenPack>();
  const size_t standard = opts_.pack_size + kPackSlack;
  if (need > standard) {
    p->capacity = need;
    p->buf = NewPackBuffer(need);
    return p;
  }
  // A fixed set of buffers, all reused: that bounds memory, and steady state
  // touches no fresh pages. As many as uploads in flight (at least two, so one
  // fills while one uploads): one more per open pack added ~17 MiB of peak
  // RSS and no speed (1 GiB backups to a local disk, 2 cores).
  const size_t max_buffers = static_cast<size_t>(std::max(2, backend_->Connections()));
  buffer_cv_.wait(lock, [&] {
    return !free_bufs_.empty() || live_bufs_ < max_buffers || open_[KindSlot(kind)];
  });
  if (open_[KindSlot(kind)]) return nullptr;  // another thread opened one meanwhile
  p->capacity = standard;
  if (!free_bufs_.empty()) {
    p->buf = std::move(free_bufs_.back());
    free_bufs_.pop_back();
  } else {
    p->buf = NewPackBuffer(standard);
    ++live_bufs_;
  }
  return p;
}

void RepositoryImpl::RecycleBuffer(OpenPack& pack) {
  if (pack.capacity != opts_.pack_size + kPackSlack || !pack.buf) return;
  std::lock_guard lock(pack_mu_);
  free_bufs_.push_back(std::move(pack.buf));
  buffer_cv_.notify_all();
}

RepositoryImpl::PackPtr RepositoryImpl::Reserve(BlobKind kind, size_t len,
                                                format::IndexPackBlob entry, size_t* offset) {
  PackPtr& p = open_[KindSlot(kind)];
  entry.offset = static_cast<uint32_t>(p->size);
  *offset = p->size;
  p->size += len;
  p->blobs.push_back(entry);
  ++p->writers;
  PackPtr mine = p;
  if (p->size >= opts_.pack_size || p->blobs.size() >= 100000) {
    p->closed = true;
    ++sealing_packs_;
    p = nullptr;
  }
  return mine;
}

RepositoryImpl::PackPtr RepositoryImpl::Release(const PackPtr& p) {
  return --p->writers == 0 && p->closed ? p : nullptr;
}

RepositoryImpl::Payload RepositoryImpl::Compress(BlobKind kind, std::span<const uint8_t> plaintext,
                                                 bool always) {
  Payload out{plaintext, 0};
  bool compress = config_.version >= 2 && !plaintext.empty() &&
                  (kind == BlobKind::kTree || opts_.compression != Compression::kOff);
  if (compress && !always && kind == BlobKind::kData && opts_.compression == Compression::kAuto &&
      LooksIncompressible(plaintext, kZstdAutoBlob)) {
    compress = false;
  }
  if (!compress) return out;
  int level = opts_.compression == Compression::kMax ? kZstdMax : kZstdAutoBlob;
  Scratch& s = ThreadScratch();
  size_t cap = ZstdBound(plaintext.size());
  size_t n = ZstdCompressTo(plaintext, level, s.Reserve(cap), cap);
  // Storing incompressible data raw is legal and makes restores cheaper.
  if (n > 0 && (always || n < plaintext.size())) {
    out.bytes = std::span<const uint8_t>(s.buf.get(), n);
    out.uncompressed_length = static_cast<uint32_t>(plaintext.size());
  }
  return out;
}

Result<bool> RepositoryImpl::SaveBlob(BlobKind kind, const Id& id,
                                      std::span<const uint8_t> plaintext) {
  STASH_RETURN_IF_ERROR(UploadError());
  if (Has(kind, id)) return false;
  {
    std::lock_guard lock(pack_mu_);
    if (!pending_.insert(PendingKey{id, kind}).second) return false;
  }
  const Payload payload = Compress(kind, plaintext, false);
  format::IndexPackBlob e;
  e.id = id;
  e.type = kind;
  e.length = static_cast<uint32_t>(payload.bytes.size() + crypto::kSealOverhead);
  e.uncompressed_length = payload.uncompressed_length;
  STASH_RETURN_IF_ERROR(
      Place(e, [&](uint8_t* slot) { crypto::Seal(master_, *opts_.random, payload.bytes, slot); }));
  bytes_added_ += plaintext.size();
  return true;
}

Status RepositoryImpl::Place(const format::IndexPackBlob& e,
                             const std::function<void(uint8_t*)>& fill) {
  const BlobKind kind = e.type;
  // Close the open pack first when this blob and the grown header would not
  // fit; its last writer (maybe this thread, right here) hands it over.
  PackPtr pack;
  size_t offset = 0;
  while (!pack) {
    PackPtr full;
    {
      std::unique_lock lock(pack_mu_);
      PackPtr& open = open_[KindSlot(kind)];
      if (open && open->size + e.length + HeaderBound(open->blobs.size() + 1) > open->capacity) {
        open->closed = true;
        ++sealing_packs_;
        if (open->writers == 0) full = open;
        open = nullptr;
      }
      if (open) {
        if (!full) pack = Reserve(kind, e.length, e, &offset);
      } else if (!full) {
        // Null when another thread opened a pack while this one waited: loop
        // to check that this blob fits there.
        if (PackPtr fresh = NewPack(lock, kind, e.length + HeaderBound(1))) {
          open = std::move(fresh);
          pack = Reserve(kind, e.length, e, &offset);
        }
      }
    }
    // Enqueue (which may wait for an uploader) before waiting for a buffer,
    // so the buffer this pack holds is on its way back.
    if (full) STASH_RETURN_IF_ERROR(Enqueue(std::move(full)));
  }
  // The slice is ours alone: fill it without the lock, straight into the pack.
  fill(pack->buf.get() + offset);
  PackPtr complete;
  {
    std::lock_guard lock(pack_mu_);
    complete = Release(pack);
  }
  pack.reset();
  if (complete) STASH_RETURN_IF_ERROR(Enqueue(std::move(complete)));
  return Status::Ok();
}

void RepositoryImpl::StartUploaders() {
  // Called with upload_mu_ held.
  if (!uploaders_.empty()) return;
  int n = std::max(1, backend_->Connections());
  for (int i = 0; i < n; ++i) uploaders_.emplace_back([this] { UploadLoop(); });
}

Status RepositoryImpl::Enqueue(PackPtr pack) {
  Status result;
  {
    std::unique_lock lock(upload_mu_);
    StartUploaders();
    // A finished pack waits only for a free uploader: memory stays bounded at
    // (uploaders + open packs) x pack size.
    size_t limit = uploaders_.size();
    upload_cv_.wait(lock, [&] {
      return queue_.size() + static_cast<size_t>(uploading_) < limit || !upload_error_.ok();
    });
    if (upload_error_.ok()) {
      queue_.push_back(std::move(pack));
      upload_cv_.notify_all();
    } else {
      result = upload_error_;
    }
  }
  if (pack) RecycleBuffer(*pack);
  std::lock_guard lock(pack_mu_);
  --sealing_packs_;
  sealed_cv_.notify_all();
  return result;
}

void RepositoryImpl::UploadLoop() {
  while (true) {
    PackPtr pack;
    {
      std::unique_lock lock(upload_mu_);
      upload_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      pack = std::move(queue_.front());
      queue_.pop_front();
      ++uploading_;
      upload_cv_.notify_all();
    }
    Status s = UploadPack(*pack);
    RecycleBuffer(*pack);
    pack.reset();
    if (s.ok()) s = WriteIndexes(false);
    std::lock_guard lock(upload_mu_);
    --uploading_;
    if (!s.ok() && upload_error_.ok()) upload_error_ = s;
    upload_cv_.notify_all();
  }
}

Status RepositoryImpl::UploadPack(OpenPack& pack) {
  std::vector<format::PackEntry> entries;
  entries.reserve(pack.blobs.size());
  for (const format::IndexPackBlob& b : pack.blobs) {
    entries.push_back({b.type, b.length, b.uncompressed_length, b.id});
  }
  std::vector<uint8_t> header = format::EncodePackHeader(entries);
  // The sealed header and its length go after the blobs, in the room
  // HeaderBound kept free in the buffer.
  size_t at = pack.size;
  uint8_t* data = pack.buf.get();
  crypto::Seal(master_, *opts_.random, header, data + at);
  const uint32_t hlen = static_cast<uint32_t>(header.size() + crypto::kSealOverhead);
  std::vector<uint8_t> trailer;
  format::AppendPackTrailer(&trailer, hlen);
  std::memcpy(data + at + hlen, trailer.data(), trailer.size());
  std::span<const uint8_t> bytes(data, at + hlen + trailer.size());
  Id pack_id = crypto::Sha256(bytes);
  const bool trees = !pack.blobs.empty() && pack.blobs.front().type == BlobKind::kTree;
  Status s = backend_->Save(Handle{FileType::kPack, pack_id.Hex(), trees}, bytes);
  // The same bytes under the same name: a previous run already stored them.
  if (!s.ok() && s.code() != Code::kAlreadyExists) {
    return s.Prepend("saving pack " + pack_id.ShortHex());
  }
  bytes_added_packed_ += bytes.size();
  {
    std::unique_lock lock(index_mu_);
    uint32_t n = index_.AddPack(pack_id);
    for (const auto& b : pack.blobs) {
      index_.Add(b.id, b.type, n, b.offset, b.length, b.uncompressed_length);
    }
  }
  {
    std::lock_guard lock(pack_mu_);
    for (const auto& b : pack.blobs) pending_.erase(PendingKey{b.id, b.type});
  }
  std::lock_guard lock(upload_mu_);
  unindexed_blobs_ += pack.blobs.size();
  unindexed_.push_back(format::IndexPack{pack_id, std::move(pack.blobs)});
  return Status::Ok();
}

Status RepositoryImpl::WriteIndexes(bool all) {
  std::lock_guard writer(index_write_mu_);
  std::vector<format::IndexPack> packs;
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
  std::vector<Id> written;
  Status st = SaveIndexFiles(std::move(packs), &written);
  std::unique_lock lock(index_mu_);
  index_files_.insert(index_files_.end(), written.begin(), written.end());
  return st;
}

Status RepositoryImpl::SaveIndexFiles(std::vector<format::IndexPack> packs,
                                      std::vector<Id>* written) {
  size_t i = 0;
  while (i < packs.size()) {
    format::IndexFile file;
    size_t blobs = 0;
    while (i < packs.size() &&
           (file.packs.empty() || blobs + packs[i].blobs.size() <= kIndexMaxBlobs)) {
      blobs += packs[i].blobs.size();
      file.packs.push_back(std::move(packs[i++]));
    }
    auto id = SaveUnpacked(FileType::kIndex, format::EncodeIndex(file));
    if (!id.ok()) return Status(id.status()).Prepend("saving index");
    written->push_back(*id);
  }
  return Status::Ok();
}

Status RepositoryImpl::Flush() {
  Status st;
  for (BlobKind kind : {BlobKind::kData, BlobKind::kTree}) {
    PackPtr p;
    {
      std::lock_guard lock(pack_mu_);
      PackPtr& open = open_[KindSlot(kind)];
      if (open && !open->blobs.empty()) {
        open->closed = true;
        ++sealing_packs_;
        if (open->writers == 0) p = open;
        open = nullptr;
      }
    }
    if (p) {
      Status s = Enqueue(std::move(p));
      if (st.ok()) st = s;
    }
  }
  STASH_RETURN_IF_ERROR(st);
  {
    // Packs closed while a SaveBlob was still sealing into them are handed
    // over by that caller; wait for it.
    std::unique_lock lock(pack_mu_);
    sealed_cv_.wait(lock, [&] { return sealing_packs_ == 0; });
  }
  {
    std::unique_lock lock(upload_mu_);
    upload_cv_.wait(lock, [&] { return queue_.empty() && uploading_ == 0; });
    if (!upload_error_.ok()) return upload_error_;
  }
  return WriteIndexes(true);
}

}  // namespace stash::repo
