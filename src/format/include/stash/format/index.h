// Index files (index/<id>): which blobs live in which pack, at which offset.
// Any number of index files may exist and they may overlap.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/blob.h"

namespace stash::format {

struct IndexPackBlob {
  Id id;
  BlobType type = BlobType::kData;
  uint32_t offset = 0;  // from the start of the pack
  uint32_t length = 0;  // sealed length (IV + payload + MAC)
  // Plaintext length when the payload is zstd-compressed; 0 = uncompressed.
  uint32_t uncompressed_length = 0;
  bool compressed() const { return uncompressed_length != 0; }
  friend bool operator==(const IndexPackBlob&, const IndexPackBlob&) = default;
};

struct IndexPack {
  Id id;
  std::vector<IndexPackBlob> blobs;
  friend bool operator==(const IndexPack&, const IndexPack&) = default;
};

struct IndexFile {
  // Index files this one replaces (omitted when empty; newer restic no longer
  // writes it but still reads it).
  std::vector<Id> supersedes;
  std::vector<IndexPack> packs;
  friend bool operator==(const IndexFile&, const IndexFile&) = default;
};

// Compact JSON plus "\n" (restic uses json.Encoder for indexes):
// {"supersedes":[..]?,"packs":[{"id":..,"blobs":[{"id","type","offset",
// "length","uncompressed_length"?}]}]}
std::string EncodeIndex(const IndexFile& index);
// kInvalid on malformed JSON or bad fields; kUnsupported for restic 0.1's
// legacy bare-array format.
Result<IndexFile> DecodeIndex(std::string_view json);

}  // namespace stash::format
