#include "backup_pipeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "stash/crypto/sha256.h"

namespace stash::engine {

namespace {
constexpr size_t kReadBlock = 1 << 20;
constexpr size_t kChunkReserve = 2 << 20;
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
                             BackupProgress* progress, std::atomic<uint64_t>* content_opens)
    : repo_(repo),
      tables_(chunker::TablesFor(repo.chunker_polynomial())),
      progress_(progress),
      content_opens_(content_opens) {
  readers = std::max(1, readers);
  hashers = std::max(1, hashers);
  max_files_ = 4096;
  // Enough chunks to keep every hasher busy while readers fill the next ones;
  // each is at most 8 MiB (chunker::kMaxSize), ~1 MiB on average.
  max_chunks_ = static_cast<size_t>(hashers) + 1;
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

bool ChunkPipeline::Failed() { return failed_.load(std::memory_order_relaxed); }

std::vector<uint8_t> ChunkPipeline::GetBuffer() {
  std::lock_guard lock(mu_);
  if (free_buffers_.empty()) return {};
  std::vector<uint8_t> b = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  b.clear();
  return b;
}

std::vector<uint8_t> ChunkPipeline::NewChunkBuffer() {
  std::vector<uint8_t> b = GetBuffer();
  // Most chunks are 0.5–2 MiB: reserving 2 MiB avoids regrowing (and, with
  // mmap'ed buffers, re-faulting) for almost all of them.
  if (b.capacity() < kChunkReserve) b.reserve(kChunkReserve);
  return b;
}

void ChunkPipeline::PutBuffer(std::vector<uint8_t> buf) {
  std::lock_guard lock(mu_);
  // Keep only as many buffers as can be in flight; big ones are returned to
  // the allocator so a single 8 MiB chunk does not pin memory forever.
  if (free_buffers_.size() < max_chunks_ + 2 && buf.capacity() <= 2 * kChunkReserve) {
    free_buffers_.push_back(std::move(buf));
  }
}

void ChunkPipeline::ReaderLoop() {
  chunker::Chunker chunker(tables_);
  std::vector<uint8_t> block(kReadBlock);
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
    ReadFile(std::move(job), chunker, block);
  }
}

void ChunkPipeline::ReadFile(FileJob job, chunker::Chunker& chunker,
                             std::vector<uint8_t>& block) {
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
  std::vector<uint8_t> cur = NewChunkBuffer();
  size_t index = 0;
  while (!Failed()) {
    ssize_t n = read(fd, block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      f->error = ErrnoError(errno, "read " + job.path);
      break;
    }
    if (n == 0) break;
    f->size += static_cast<uint64_t>(n);
    std::span<const uint8_t> rest(block.data(), static_cast<size_t>(n));
    while (!rest.empty()) {
      bool cut = false;
      size_t used = chunker.Next(rest, &cut);
      cur.insert(cur.end(), rest.begin(), rest.begin() + used);
      rest = rest.subspan(used);
      if (cut) {
        PushChunk(Chunk{f, index++, std::move(cur)});
        cur = NewChunkBuffer();
      }
    }
  }
  close(fd);
  if (!cur.empty() && f->error.ok()) {
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
    Chunk c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !chunks_.empty() || active_readers_ < 0; });
      if (chunks_.empty()) return;
      c = std::move(chunks_.front());
      chunks_.pop_front();
      cv_.notify_all();
    }
    if (!Failed()) {
      Id id = crypto::Sha256(c.data);
      auto added = repo_.SaveBlob(repo::BlobKind::kData, id, c.data);
      if (!added.ok()) {
        SetError(added.status());
      } else {
        if (*added) ++data_blobs_;
        std::lock_guard lock(c.file->mu);
        c.file->content[c.index] = id;
      }
      if (progress_) progress_->bytes_done += c.data.size();
    }
    PutBuffer(std::move(c.data));
    Release(c.file);
  }
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
