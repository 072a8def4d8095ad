// Chunker: restic's content-defined chunker (a Rabin fingerprint over a
// 64-byte window), reproducing restic's cut points exactly so blobs dedup
// against restic-written repositories.
//
// A chunk ends after byte i when the chunk is at least kMinSize bytes long and
// the fingerprint of its last 64 bytes has its low 20 bits zero, or when it
// reaches kMaxSize. The end of a file always ends the last chunk (the caller
// does that); chunks never span files.
//
//   auto tables = TablesFor(pol);            // once per repository
//   Chunker c(tables);                       // one per thread
//   c.Reset();                               // at the start of every file
//   while (read buf) {
//     std::span<const uint8_t> rest = buf;
//     while (!rest.empty()) {
//       bool cut;
//       size_t n = c.Next(rest, &cut);       // rest[0, n) belongs to the chunk
//       append rest.first(n) to the chunk; if (cut) emit it;
//       rest = rest.subspan(n);
//     }
//   }
//   emit the remaining bytes (if any) as the last chunk.
//
// Thread-safety: Tables are immutable and shared freely; TablesFor() is
// thread-safe. A Chunker is not thread-safe: one per thread/file stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "stash/chunker/polynomial.h"

namespace stash::chunker {

inline constexpr size_t kMinSize = 512 * 1024;
inline constexpr size_t kMaxSize = 8 * 1024 * 1024;
inline constexpr size_t kWindowSize = 64;
inline constexpr uint64_t kSplitMask = (uint64_t{1} << 20) - 1;

// The lookup tables of one polynomial: `out` removes the byte leaving the
// window, `mod` reduces the 8 bits shifted above the degree.
class Tables {
 public:
  // Requires CheckChunkerPolynomial(pol).ok() (degree 9..53).
  explicit Tables(Pol pol);

  Pol pol() const { return pol_; }
  int shift() const { return shift_; }
  const std::array<uint64_t, 256>& out() const { return out_; }
  const std::array<uint64_t, 256>& mod() const { return mod_; }
  // out[b] * x^8 mod pol: removes b from a window in the same step that
  // shifts the next byte in, keeping the removal off the fingerprint's
  // critical path (mod is linear in its index, so the two reductions merge).
  const std::array<uint64_t, 256>& drop() const { return drop_; }

 private:
  Pol pol_;
  int shift_;
  std::array<uint64_t, 256> out_;
  std::array<uint64_t, 256> mod_;
  std::array<uint64_t, 256> drop_;
};

// Tables for `pol`, computed once per process and cached. Requires
// CheckChunkerPolynomial(pol).ok(); validate a config's polynomial first.
std::shared_ptr<const Tables> TablesFor(Pol pol);

class Chunker {
 public:
  explicit Chunker(std::shared_ptr<const Tables> tables);

  // Starts a new file: the next byte fed begins a new chunk.
  void Reset() { count_ = 0; }

  // Scans `data`, the bytes following those already fed for the current
  // chunk. Returns how many bytes of `data` belong to the current chunk.
  // *cut is true when the chunk ends after them (the chunker is then ready
  // for the next chunk, which starts at data[returned]); when false, all of
  // `data` was consumed and the chunk continues. Feeding the input in pieces
  // of any size gives the same cuts. At end of file the caller ends the last
  // chunk itself (and calls Reset() before the next file).
  size_t Next(std::span<const uint8_t> data, bool* cut);

  // Bytes fed into the current chunk so far.
  size_t count() const { return count_; }

 private:
  std::shared_ptr<const Tables> tables_;
  size_t count_ = 0;
  // The last 64 bytes fed (oldest first); valid once count_ >= 64. The
  // fingerprint at any cut candidate depends on these bytes only, so no
  // digest needs to be carried between calls.
  std::array<uint8_t, kWindowSize> hist_{};
};

}  // namespace stash::chunker
