#include "backup_pipeline.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

#include "stash/crypto/sha256.h"

namespace stash::engine {

namespace {
// Smaller reads mean less to copy after a cut (the tail of the last read
// moves to the next chunk's buffer); 512 KiB keeps syscalls rare.
constexpr size_t kReadBlock = 512 << 10;
constexpr size_t kBufferSize = chunker::kMaxSize + kReadBlock;
constexpr size_t kKeepResident = 2 << 20;
constexpr uintptr_t kPage = 4096;
}  // namespace

struct ChunkPipeline::FileState {
  std::mutex mu;
  std::vector<Id> content;
  uint64_t size = 0;
  Status error;
  std::atomic<int> pending{1};  // chunks in flight + 1 while the reader runs
  DoneFn done;
};

ChunkPipeline::ChunkPipeline(repo::Repository& repo, int readers, int hashers,
                             BackupProgress* progress, std::atomic<uint64_t>* content_opens,
                             const std::atomic<bool>* cancel)
    : repo_(repo),
      tables_(chunker::TablesFor(repo.chunker_polynomial())),
      progress_(progress),
      content_opens_(content_opens),
      cancel_(cancel) {
  readers = std::max(1, readers);
  hashers = std::max(1, hashers);
  max_files_ = 4096;
  // Enough chunks to keep every hasher busy with a pair while readers fill
  // the next ones; each is at most 8 MiB (chunker::kMaxSize), ~1 MiB on
  // average.
  max_chunks_ = 2 * static_cast<size_t>(hashers) + 1;
  for (int i = 0; i < readers; ++i) readers_.emplace_back([this] { ReaderLoop(); });
  for (int i = 0; i < hashers; ++i) hashers_.emplace_back([this] { HasherLoop(); });
}

ChunkPipeline::~ChunkPipeline() { Finish().IgnoreError(); }

void ChunkPipeline::AddFile(std::string path, DoneFn done) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return files_.size() < max_files_; });
  files_.push_back(FileJob{std::move(path), std::move(done)});
  cv_.notify_all();
}

Status ChunkPipeline::Finish() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  for (auto& t : readers_) t.join();
  readers_.clear();
  {
    std::lock_guard lock(mu_);
    active_readers_ = -1;  // no more chunks will come
  }
  cv_.notify_all();
  for (auto& t : hashers_) t.join();
  hashers_.clear();
  std::lock_guard lock(mu_);
  return error_;
}

void ChunkPipeline::SetError(const Status& s) {
  std::lock_guard lock(mu_);
  if (error_.ok()) error_ = s;
  failed_ = true;
}

bool ChunkPipeline::Failed() {
  if (failed_.load(std::memory_order_relaxed)) return true;
  if (cancel_ && cancel_->load(std::memory_order_relaxed)) {
    SetError(CancelledError("backup stopped before it completed"));
    return true;
  }
  return false;
}

ChunkPipeline::Buffer ChunkPipeline::GetBuffer() {
  {
    std::lock_guard lock(mu_);
    if (!free_buffers_.empty()) {
      Buffer b = std::move(free_buffers_.back());
      free_buffers_.pop_back();
      b.size = 0;
      return b;
    }
  }
  // Default-initialised: fresh pages are touched only as data lands in them.
  return Buffer{std::unique_ptr<uint8_t[]>(new uint8_t[kBufferSize]), 0};
}

void ChunkPipeline::PutBuffer(Buffer buf) {
  // Most chunks are 0.5-2 MiB; the pages a rare large one touched beyond
  // kKeepResident go back to the kernel so the idle buffers stay small.
  if (buf.size > kKeepResident) {
    auto base = reinterpret_cast<uintptr_t>(buf.bytes.get());
    uintptr_t from = (base + kKeepResident + kPage - 1) & ~(kPage - 1);
    uintptr_t to = (base + buf.size) & ~(kPage - 1);
    if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  }
  // Buffers in existence are bounded by the queues (a current one per
  // reader, max_chunks_ queued, one per hasher), so all are kept.
  std::lock_guard lock(mu_);
  free_buffers_.push_back(std::move(buf));
}

void ChunkPipeline::ReaderLoop() {
  chunker::Chunker chunker(tables_);
  while (true) {
    FileJob job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !files_.empty(); });
      if (files_.empty()) return;
      job = std::move(files_.front());
      files_.pop_front();
      cv_.notify_all();
    }
    ReadFile(std::move(job), chunker);
  }
}

void ChunkPipeline::ReadFile(FileJob job, chunker::Chunker& chunker) {
  auto f = std::make_shared<FileState>();
  f->done = std::move(job.done);
  int fd = open(job.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(job.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    f->error = ErrnoError(errno, "open " + job.path);
    Release(f);
    return;
  }
  if (content_opens_) ++*content_opens_;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  chunker.Reset();
  Buffer cur = GetBuffer();
  size_t index = 0;
  while (!Failed()) {
    // The chunker cuts at kMaxSize, so the current chunk is shorter than
    // that and a whole read block always fits.
    ssize_t n = read(fd, cur.bytes.get() + cur.size, kReadBlock);
    if (n < 0) {
      if (errno == EINTR) continue;
      f->error = ErrnoError(errno, "read " + job.path);
      break;
    }
    if (n == 0) break;
    f->size += static_cast<uint64_t>(n);
    size_t scanned = cur.size;
    cur.size += static_cast<size_t>(n);
    while (scanned < cur.size) {
      bool cut = false;
      scanned += chunker.Next(
          std::span<const uint8_t>(cur.bytes.get() + scanned, cur.size - scanned), &cut);
      if (!cut) break;
      Buffer next = GetBuffer();
      next.size = cur.size - scanned;
      std::memcpy(next.bytes.get(), cur.bytes.get() + scanned, next.size);
      cur.size = scanned;
      PushChunk(Chunk{f, index++, std::move(cur)});
      cur = std::move(next);
      scanned = 0;
    }
  }
  close(fd);
  if (cur.size > 0 && f->error.ok()) {
    PushChunk(Chunk{f, index++, std::move(cur)});
  } else {
    PutBuffer(std::move(cur));
  }
  Release(f);
}

void ChunkPipeline::PushChunk(Chunk chunk) {
  chunk.file->pending.fetch_add(1);
  {
    std::lock_guard lock(chunk.file->mu);
    if (chunk.file->content.size() <= chunk.index) chunk.file->content.resize(chunk.index + 1);
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return chunks_.size() < max_chunks_; });
  chunks_.push_back(std::move(chunk));
  cv_.notify_all();
}

void ChunkPipeline::HasherLoop() {
  while (true) {
    // Two chunks when two are queued: one two-lane SHA-256 pass hashes both
    // in ~60% of the time of two passes (the round instruction's latency is
    // hidden).
    Chunk c[2];
    size_t n = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !chunks_.empty() || active_readers_ < 0; });
      if (chunks_.empty()) return;
      for (; n < 2 && !chunks_.empty(); ++n) {
        c[n] = std::move(chunks_.front());
        chunks_.pop_front();
      }
      cv_.notify_all();
    }
    Id ids[2];
    if (!Failed()) {
      auto data = [&](size_t i) {
        return std::span<const uint8_t>(c[i].data.bytes.get(), c[i].data.size);
      };
      if (n == 2) {
        std::tie(ids[0], ids[1]) = crypto::Sha256x2(data(0), data(1));
      } else {
        ids[0] = crypto::Sha256(data(0));
      }
      for (size_t i = 0; i < n && !Failed(); ++i) Store(c[i], ids[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      PutBuffer(std::move(c[i].data));
      Release(c[i].file);
    }
  }
}

void ChunkPipeline::Store(Chunk& c, const Id& id) {
  std::span<const uint8_t> data(c.data.bytes.get(), c.data.size);
  auto added = repo_.SaveBlob(repo::BlobKind::kData, id, data);
  if (!added.ok()) {
    SetError(added.status());
  } else {
    if (*added) ++data_blobs_;
    std::lock_guard lock(c.file->mu);
    c.file->content[c.index] = id;
  }
  if (progress_) progress_->bytes_done += c.data.size;
}

void ChunkPipeline::Release(const std::shared_ptr<FileState>& f) {
  if (f->pending.fetch_sub(1) != 1) return;
  if (!f->error.ok()) {
    f->done(f->error);
  } else if (Failed()) {
    f->done(CancelledError("backup aborted"));
  } else {
    f->done(FileContent{std::move(f->content), f->size});
  }
  f->done = nullptr;
}

}  // namespace stash::engine
