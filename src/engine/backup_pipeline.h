// Private to engine (backup): the file-content stage of the archiver.
// Reader threads open changed files and run restic's chunker over large
// sequential reads straight into chunk buffers (no copy but the tail after a
// cut); hasher threads SHA-256 the chunks (two at a time in one two-lane pass
// when two are queued) and store them with Repository::SaveBlob. Both queues are bounded (file
// jobs, and chunks in flight), and chunk buffers are recycled, so memory stays flat whatever the
// file sizes and counts, and steady state touches no fresh pages.
//
// Thread-safety: AddFile/Finish are called from the walker thread; the done
// callbacks run on pipeline threads (one call per file).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stash/chunker/chunker.h"
#include "stash/engine/backup.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct FileContent {
  std::vector<Id> content;
  uint64_t size = 0;
};

class ChunkPipeline {
 public:
  using DoneFn = std::function<void(Result<FileContent>)>;

  // `cancel` (may be null): once set, reading stops and Finish() fails with
  // kCancelled.
  ChunkPipeline(repo::Repository& repo, int readers, int hashers, BackupProgress* progress,
                std::atomic<uint64_t>* content_opens, const std::atomic<bool>* cancel = nullptr);
  ~ChunkPipeline();

  // Queues a file for reading; blocks while the file queue is full. `done`
  // gets the blob ids (or the open/read error) once every chunk is stored.
  void AddFile(std::string path, DoneFn done);
  // Waits until every queued file is done and stops the threads. Returns the
  // first repository error (a failed SaveBlob), which also stops reading.
  Status Finish();

  uint64_t data_blobs() const { return data_blobs_; }

 private:
  struct FileState;
  // A chunk buffer: room for the largest chunk plus one read, so a read
  // never has to wait for a cut. Only the pages used are ever touched.
  struct Buffer {
    std::unique_ptr<uint8_t[]> bytes;
    size_t size = 0;
  };
  struct Chunk {
    std::shared_ptr<FileState> file;
    size_t index;
    Buffer data;
  };
  struct FileJob {
    std::string path;
    DoneFn done;
  };

  void ReaderLoop();
  void HasherLoop();
  void ReadFile(FileJob job, chunker::Chunker& chunker);
  void PushChunk(Chunk chunk);
  // Stores one hashed chunk (SaveBlob) and records its id in its file.
  void Store(Chunk& c, const Id& id);
  void Release(const std::shared_ptr<FileState>& f);
  Buffer GetBuffer();
  void PutBuffer(Buffer buf);
  void SetError(const Status& s);
  bool Failed();

  repo::Repository& repo_;
  std::shared_ptr<const chunker::Tables> tables_;
  BackupProgress* progress_;
  std::atomic<uint64_t>* content_opens_;
  const std::atomic<bool>* cancel_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FileJob> files_;
  std::deque<Chunk> chunks_;
  std::vector<Buffer> free_buffers_;
  size_t max_files_;
  size_t max_chunks_;
  int active_readers_ = 0;  // readers working on a file
  bool closing_ = false;
  Status error_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> data_blobs_{0};

  std::vector<std::thread> readers_;
  std::vector<std::thread> hashers_;
};

}  // namespace stash::engine
