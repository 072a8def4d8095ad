// Pack files: sealed blobs back to back, then the sealed header that lists
// them, then the header's sealed length as u32le:
//
//   pack = blob_1 || ... || blob_n || seal(header) || u32le(len(seal(header)))
//
// This header only encodes/decodes the *plaintext* header and the trailer;
// sealing and IO belong to other layers. Offsets are implicit: blob i starts
// at the sum of the lengths of blobs 0..i-1.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/blob.h"

namespace stash::format {

// IV (16) + MAC (16) around every sealed object.
inline constexpr size_t kSealOverhead = 32;
// type(1) + length(4) + id(32), and + uncompressed length(4) when compressed.
inline constexpr size_t kPackEntrySize = 37;
inline constexpr size_t kCompressedPackEntrySize = 41;
inline constexpr size_t kPackTrailerSize = 4;
// restic reads this many bytes from the end first, hoping to get the whole
// header in one request (15 compressed entries).
inline constexpr size_t kEagerTailSize =
    15 * kCompressedPackEntrySize + kSealOverhead + kPackTrailerSize;
// Largest sealed header plus trailer restic accepts.
inline constexpr size_t kMaxPackHeaderSize = 16 * 1024 * 1024 + kPackTrailerSize;

struct PackEntry {
  BlobType type = BlobType::kData;
  uint32_t length = 0;  // sealed length in the pack
  // Plaintext length when the payload is zstd-compressed; 0 = uncompressed
  // (restic's rule too, so an empty blob is never compressed).
  uint32_t uncompressed_length = 0;
  Id id;  // SHA-256 of the uncompressed plaintext

  bool compressed() const { return uncompressed_length != 0; }
  size_t header_size() const { return compressed() ? kCompressedPackEntrySize : kPackEntrySize; }
  friend bool operator==(const PackEntry&, const PackEntry&) = default;
};

// The plaintext header: one 37- or 41-byte entry per blob, in pack order.
// Entry type byte: 0 data, 1 tree, 2 compressed data, 3 compressed tree.
std::vector<uint8_t> EncodePackHeader(const std::vector<PackEntry>& entries);

// Parses a plaintext header. A truncated entry, an unknown type byte or a
// sealed length below kSealOverhead is kDataLoss.
Result<std::vector<PackEntry>> DecodePackHeader(std::span<const uint8_t> header);

// The sealed header's length, from the last 4 bytes of `tail` (the end of the
// pack). kDataLoss when tail is shorter than 4 bytes or the length is
// impossible for a pack of `pack_size` bytes (below kSealOverhead, beyond the
// file, or above kMaxPackHeaderSize).
Result<uint32_t> DecodePackTrailer(std::span<const uint8_t> tail, uint64_t pack_size);

// Appends u32le(sealed_header_length).
void AppendPackTrailer(std::vector<uint8_t>* out, uint32_t sealed_header_length);

// Sealed header length for these entries (plaintext header + kSealOverhead).
uint64_t SealedPackHeaderSize(const std::vector<PackEntry>& entries);
// Total pack file size: blobs + sealed header + trailer. restic check compares
// this with the real size.
uint64_t PackSize(const std::vector<PackEntry>& entries);

}  // namespace stash::format
