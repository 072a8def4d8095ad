#include "restore_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_map>

namespace stash::engine {

struct PackFileWriter::File {
  std::string target;
  std::string location;
  std::vector<Id> content;
  uint64_t size = 0;
  std::mutex mu;  // guards fd/opened/failed transitions
  // Serialises this file's writes in user space: writers of one file would
  // otherwise meet on its inode lock, where the kernel spins (burning the
  // other core) rather than letting another worker run.
  std::mutex write_mu;
  int fd = -1;
  bool opened = false;
  std::atomic<bool> failed{false};
  std::atomic<int64_t> remaining{0};  // blob writes still to come
};

namespace {

bool AllZero(std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (w != 0) return false;
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    if (*p++ != 0) return false;
  }
  return true;
}

// Gives the pages of `v` past its first `keep` bytes back to the kernel. The
// contents there are scratch: whatever is written next is written first.
void TrimResident(std::vector<uint8_t>& v, size_t keep) {
  constexpr uintptr_t kPage = 4096;
  const auto base = reinterpret_cast<uintptr_t>(v.data());
  const uintptr_t from = (base + keep + kPage - 1) & ~(kPage - 1);
  const uintptr_t to = (base + v.size()) & ~(kPage - 1);
  if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
}

}  // namespace

PackFileWriter::PackFileWriter(repo::Repository& repo, int workers, RestoreErrorFn on_error)
    : repo_(repo), workers_(std::max(1, workers)), on_error_(std::move(on_error)) {}

PackFileWriter::~PackFileWriter() {
  for (File& f : files_) {
    if (f.fd >= 0) close(f.fd);
  }
}

size_t PackFileWriter::AddFile(std::string target, std::string location, std::vector<Id> content,
                               uint64_t size) {
  File& f = files_.emplace_back();
  f.target = std::move(target);
  f.location = std::move(location);
  f.content = std::move(content);
  f.size = size;
  return files_.size() - 1;
}

bool PackFileWriter::Failed(size_t index) const { return files_[index].failed.load(); }

void PackFileWriter::FailFile(File& f, const Status& s) {
  {
    std::lock_guard<std::mutex> lock(f.mu);
    if (f.failed.exchange(true)) return;  // one report per file
    if (f.fd >= 0) {
      close(f.fd);
      f.fd = -1;
    }
  }
  errors_.fetch_add(1);
  std::lock_guard<std::mutex> lock(error_mu_);
  if (on_error_) on_error_(f.location, s);
}

void PackFileWriter::Plan() {
  // Packs in the order files first need them, so files complete (and their
  // descriptors close) early.
  std::unordered_map<Id, size_t, IdHash> pack_index;
  std::vector<std::unordered_map<Id, size_t, IdHash>> blob_index;
  for (uint32_t fi = 0; fi < files_.size(); ++fi) {
    File& f = files_[fi];
    uint64_t offset = 0;
    std::vector<std::pair<size_t, size_t>> slots;  // (pack, blob) per content entry
    bool missing = false;
    for (const Id& id : f.content) {
      auto loc = repo_.Lookup(repo::BlobKind::kData, id);
      if (!loc) {
        FailFile(f, Status(Code::kNotFound, "blob " + id.Hex() + " not found in index"));
        missing = true;
        break;
      }
      auto [pit, pnew] = pack_index.try_emplace(loc->pack, packs_.size());
      if (pnew) {
        packs_.push_back(Pack{loc->pack, {}});
        blob_index.emplace_back();
      }
      Pack& pack = packs_[pit->second];
      auto [bit, bnew] = blob_index[pit->second].try_emplace(id, pack.blobs.size());
      if (bnew) pack.blobs.push_back(BlobNeed{id, *loc, {}});
      slots.emplace_back(pit->second, bit->second);
    }
    if (missing) continue;
    for (size_t i = 0; i < slots.size(); ++i) {
      BlobNeed& need = packs_[slots[i].first].blobs[slots[i].second];
      need.targets.push_back(Target{fi, offset});
      offset += need.loc.PlainLength();
    }
    f.remaining.store(static_cast<int64_t>(slots.size()));
    if (offset != f.size) {
      // The index and the node disagree; restic would write what the blobs
      // hold. Keep the blobs' length so the content is exact.
      f.size = offset;
    }
  }
}

bool PackFileWriter::OpenFile(File& f, bool zero_blob) {
  std::lock_guard<std::mutex> lock(f.mu);
  if (f.failed.load()) return false;
  if (f.opened) return f.fd >= 0;
  f.opened = true;
  int fd = open(f.target.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    f.failed.store(true);
    errors_.fetch_add(1);
    std::lock_guard<std::mutex> elock(error_mu_);
    if (on_error_) {
      on_error_(f.location,
                Status(Code::kInternal, "OpenFile: open " + f.target + ": " + std::strerror(err)));
    }
    return false;
  }
  // A file of one written blob gets its size from that write: most small
  // files save the syscall. Holes (skipped zero blobs) need the truncate.
  const bool sized_by_write = f.content.size() == 1 && !zero_blob;
  if (!sized_by_write && ftruncate(fd, static_cast<off_t>(f.size)) != 0) {
    int err = errno;
    close(fd);
    f.failed.store(true);
    errors_.fetch_add(1);
    std::lock_guard<std::mutex> elock(error_mu_);
    if (on_error_) {
      on_error_(f.location, Status(err == ENOSPC ? Code::kResourceExhausted : Code::kInternal,
                                   "Truncate " + f.target + ": " + std::strerror(err)));
    }
    return false;
  }
  f.fd = fd;
  return true;
}

void PackFileWriter::BlobDone(File& f) {
  if (f.remaining.fetch_sub(1) != 1) return;
  std::lock_guard<std::mutex> lock(f.mu);
  if (f.fd >= 0) {
    close(f.fd);  // pwrite errors were reported already; close cannot add any on Linux
    f.fd = -1;
  }
}

void PackFileWriter::WriteBlob(const BlobNeed& need, std::span<const uint8_t> plain) {
  const bool zero = AllZero(plain);
  for (const Target& t : need.targets) {
    File& f = files_[t.file];
    if (!OpenFile(f, zero)) continue;
    if (zero) {
      skipped_.fetch_add(plain.size());
    } else {
      std::lock_guard<std::mutex> write_lock(f.write_mu);
      size_t done = 0;
      while (done < plain.size()) {
        ssize_t n = pwrite(f.fd, plain.data() + done, plain.size() - done,
                           static_cast<off_t>(t.offset + done));
        if (n < 0) {
          if (errno == EINTR) continue;
          FailFile(f, Status(errno == ENOSPC ? Code::kResourceExhausted : Code::kInternal,
                             "Write " + f.target + ": " + std::strerror(errno)));
          break;
        }
        done += static_cast<size_t>(n);
      }
      if (f.failed.load()) continue;
    }
    bytes_.fetch_add(plain.size());
    BlobDone(f);
  }
}

void PackFileWriter::CutRanges() {
  for (size_t p = 0; p < packs_.size(); ++p) {
    std::vector<BlobNeed>& blobs = packs_[p].blobs;
    std::sort(blobs.begin(), blobs.end(),
              [](const BlobNeed& a, const BlobNeed& b) { return a.loc.offset < b.loc.offset; });
    size_t i = 0;
    while (i < blobs.size()) {
      // One ranged read covers consecutive needed blobs separated by small gaps.
      size_t j = i + 1;
      uint64_t start = blobs[i].loc.offset;
      uint64_t end = start + blobs[i].loc.length;
      while (j < blobs.size() && blobs[j].loc.offset <= end + kMaxRangeGap &&
             end - start < kMaxRangeSize && j - i < kMaxRangeBlobs) {
        end = std::max<uint64_t>(end, blobs[j].loc.offset + blobs[j].loc.length);
        ++j;
      }
      ranges_.push_back(Range{p, i, j, start, end - start});
      max_range_length_ = std::max(max_range_length_, end - start);
      for (size_t k = i; k < j; ++k) {
        max_plain_length_ = std::max<uint64_t>(max_plain_length_, blobs[k].loc.uncompressed_length);
      }
      i = j;
    }
  }
}

void PackFileWriter::RestoreRange(const Range& range, std::vector<uint8_t>* buf,
                                  std::vector<uint8_t> (&scratch)[2]) {
  Pack& pack = packs_[range.pack];
  const size_t i = range.begin;
  const size_t j = range.end;
  const uint64_t start = range.offset;
  // Each pack range is read once: one the prefetch has not brought into the
  // page cache is read past it, saving the kernel a copy and the cache pages.
  auto loaded = repo_.backend().LoadUncached({backend::FileType::kPack, pack.id.Hex()}, start,
                                             range.length, buf);
  Status s = loaded.status();
  if (s.ok() && loaded->size() != range.length) {
    s = Status(Code::kDataLoss, "short read");
  }
  auto deliver = [&](const BlobNeed& need, const Result<std::span<const uint8_t>>& opened) {
    if (opened.ok()) {
      WriteBlob(need, *opened);
      return;
    }
    Status err =
        Status(opened.status()).Prepend("pack " + pack.id.Hex() + ": blob " + need.id.Hex());
    for (const Target& t : need.targets) FailFile(files_[t.file], err);
  };
  if (!s.ok()) {
    for (size_t k = i; k < j; ++k) deliver(pack.blobs[k], s);
    return;
  }
  // Decrypted in place, decompressed into the worker's scratch: no
  // allocation per blob. Two at a time, so one two-lane SHA-256 pass checks
  // both ids.
  auto sealed = [&](const BlobNeed& need, std::vector<uint8_t>* into) {
    return repo::Repository::SealedBlob{
        need.id, need.loc,
        std::span<uint8_t>(loaded->data() + (need.loc.offset - start), need.loc.length), into};
  };
  // Partners of similar size: the two lanes run together only as long as
  // both blobs last.
  std::vector<size_t> order(j - i);
  for (size_t k = i; k < j; ++k) order[k - i] = k;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return pack.blobs[x].loc.PlainLength() < pack.blobs[y].loc.PlainLength();
  });
  size_t k = 0;
  for (; k + 1 < order.size(); k += 2) {
    const BlobNeed& x = pack.blobs[order[k]];
    const BlobNeed& y = pack.blobs[order[k + 1]];
    auto [a, b] = repo_.OpenBlobPairInPlace(sealed(x, &scratch[0]), sealed(y, &scratch[1]));
    deliver(x, a);
    deliver(y, b);
  }
  if (k < order.size()) {
    const auto one = sealed(pack.blobs[order[k]], &scratch[0]);
    deliver(pack.blobs[order[k]], repo_.OpenBlobInPlace(one.id, one.loc, one.sealed, one.scratch));
  }
  // Most blobs decompress to 0.5-2 MiB: the pages a rare large one touched
  // go back, so all workers' scratch meeting large blobs at once is rare and
  // peak memory stays low.
  for (size_t b = i; b < j; ++b) {
    if (pack.blobs[b].loc.uncompressed_length > kScratchResident) {
      for (auto& sc : scratch) TrimResident(sc, kScratchResident);
      break;
    }
  }
}

void PackFileWriter::Prefetch(const Range& range) {
  repo_.backend().Prefetch({backend::FileType::kPack, packs_[range.pack].id.Hex()}, range.offset,
                           range.length);
}

void PackFileWriter::Run(RestoreStats* stats) {
  Plan();
  CutRanges();
  const size_t ahead = kPrefetchRangesPerWorker * static_cast<size_t>(workers_);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    std::vector<uint8_t> buf;
    std::vector<uint8_t> scratch[2];
    // Their final capacity at once: grown on demand they were reallocated,
    // copied and faulted in again several times over.
    buf.reserve(max_range_length_ + kBufferSlack);
    for (auto& sc : scratch) sc.reserve(max_plain_length_);
    for (size_t r; (r = next.fetch_add(1)) < ranges_.size();) {
      // Taking range r asks for range r + ahead: the store reads ahead of the
      // workers and they rarely wait for the disk.
      if (r + ahead < ranges_.size()) Prefetch(ranges_[r + ahead]);
      RestoreRange(ranges_[r], &buf, scratch);
    }
  };
  for (size_t r = 0; r < std::min(ahead, ranges_.size()); ++r) Prefetch(ranges_[r]);
  std::vector<std::thread> threads;
  int n = std::min<int>(workers_, static_cast<int>(ranges_.size()));
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (File& f : files_) {
    std::lock_guard<std::mutex> lock(f.mu);
    if (f.fd >= 0) {
      close(f.fd);
      f.fd = -1;
    }
  }
  stats->bytes += bytes_.load();
  stats->bytes_skipped += skipped_.load();
  stats->errors += errors_.load();
}

}  // namespace stash::engine
