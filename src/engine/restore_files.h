// Private to engine: writes the content of many files from a repository,
// planned by pack. AddFile() registers each file; Run() groups every needed
// blob by the pack holding it, reads each pack once in ranges covering its
// needed blobs (gaps up to kMaxRangeGap are read through rather than split,
// ranges end after kMaxRangeSize),
// on several worker threads, and pwrite()s each decrypted blob at its offset
// in every file that uses it. Each worker taking a range asks the store to
// prefetch the range kPrefetchRangesPerWorker x workers further on, so reads
// overlap the decrypting, hashing and writing. Files are created and sized by
// the first blob that reaches them; all-zero blobs are skipped so they stay
// holes.
//
// Thread-safety: AddFile() before Run(), from one thread. Run() is internally
// parallel; the error callback is serialised.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "stash/engine/restore.h"
#include "stash/repo/repository.h"

namespace stash::engine {

class PackFileWriter {
 public:
  static constexpr uint64_t kMaxRangeGap = 1 << 20;
  // A range stops growing past this size, so each worker holds at most one
  // such buffer (plus one blob): memory stays bounded with many workers.
  static constexpr uint64_t kMaxRangeSize = 4 << 20;
  // Ranges are the unit of work: capping their blob count spreads one pack of
  // many small files (one pack can hold 100k of them) over all the workers,
  // whose time goes into creating files rather than reading.
  static constexpr size_t kMaxRangeBlobs = 256;
  // How far the reads run ahead of the workers, in ranges per worker: deep
  // enough to keep a disk's queue full (measured: 4 beat 2 and 8 here).
  static constexpr size_t kPrefetchRangesPerWorker = 4;
  // Decompression scratch kept resident between ranges.
  static constexpr size_t kScratchResident = 2 << 20;
  // A backend may need room around a range to align it (direct reads).
  static constexpr uint64_t kBufferSlack = 3 * 4096;

  PackFileWriter(repo::Repository& repo, int workers, RestoreErrorFn on_error);
  ~PackFileWriter();

  // Returns the file's index for Failed().
  size_t AddFile(std::string target, std::string location, std::vector<Id> content, uint64_t size);
  // Writes every added file. Adds to stats->bytes / bytes_skipped / errors.
  void Run(RestoreStats* stats);
  // After Run(): whether file `index` failed (and was reported).
  bool Failed(size_t index) const;

 private:
  struct File;
  struct Target {
    uint32_t file;
    uint64_t offset;
  };
  struct BlobNeed {
    Id id;
    repo::BlobLocation loc;
    std::vector<Target> targets;
  };
  struct Pack {
    Id id;
    std::vector<BlobNeed> blobs;
  };
  // One ranged read of a pack: blobs [begin, end) of packs_[pack], by offset.
  struct Range {
    size_t pack;
    size_t begin;
    size_t end;
    uint64_t offset;  // bytes of the pack read: from the first blob's start
    uint64_t length;  // to the furthest blob end
  };

  void Prefetch(const Range& range);
  void Plan();
  void CutRanges();
  void RestoreRange(const Range& range, std::vector<uint8_t>* buf,
                    std::vector<uint8_t> (&scratch)[2]);
  void WriteBlob(const BlobNeed& need, std::span<const uint8_t> plain);
  void FailFile(File& f, const Status& s);
  bool OpenFile(File& f, bool zero_blob);
  void BlobDone(File& f);

  repo::Repository& repo_;
  int workers_;
  RestoreErrorFn on_error_;
  std::deque<File> files_;
  std::vector<Pack> packs_;
  std::vector<Range> ranges_;
  uint64_t max_range_length_ = 0;  // over ranges_, for the workers' buffers
  uint64_t max_plain_length_ = 0;  // largest compressed blob's plaintext
  std::mutex error_mu_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> skipped_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace stash::engine
