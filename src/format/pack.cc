#include "stash/format/pack.h"

#include <cstring>
#include <string>

namespace stash::format {
namespace {

void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

std::vector<uint8_t> EncodePackHeader(const std::vector<PackEntry>& entries) {
  std::vector<uint8_t> out;
  out.reserve(entries.size() * kCompressedPackEntrySize);
  for (const PackEntry& e : entries) {
    uint8_t type = e.type == BlobType::kTree ? 1 : 0;
    if (e.compressed()) type += 2;
    out.push_back(type);
    PutU32(&out, e.length);
    if (e.compressed()) PutU32(&out, e.uncompressed_length);
    out.insert(out.end(), e.id.data(), e.id.data() + Id::kSize);
  }
  return out;
}

Result<std::vector<PackEntry>> DecodePackHeader(std::span<const uint8_t> header) {
  std::vector<PackEntry> entries;
  entries.reserve(header.size() / kPackEntrySize);
  size_t pos = 0;
  while (pos < header.size()) {
    const uint8_t type = header[pos];
    if (type > 3) {
      return DataLossError("pack header: unknown blob type " + std::to_string(type) + " in entry " +
                           std::to_string(entries.size()) + "; the pack is corrupt");
    }
    const bool compressed = type >= 2;
    const size_t size = compressed ? kCompressedPackEntrySize : kPackEntrySize;
    if (header.size() - pos < size) {
      return DataLossError("pack header: entry " + std::to_string(entries.size()) +
                           " is truncated (" + std::to_string(header.size() - pos) +
                           " bytes left, need " + std::to_string(size) + ")");
    }
    const uint8_t* p = header.data() + pos + 1;
    PackEntry e;
    e.type = (type & 1) ? BlobType::kTree : BlobType::kData;
    e.length = GetU32(p);
    p += 4;
    if (compressed) {
      e.uncompressed_length = GetU32(p);
      p += 4;
    }
    e.id = Id::FromBytes(p);
    if (e.length < kSealOverhead) {
      return DataLossError("pack header: blob " + e.id.Hex() + " has sealed length " +
                           std::to_string(e.length) + ", below the 32-byte IV+MAC");
    }
    // No writer compresses an empty blob, and a compressed entry whose
    // plaintext length is 0 would be read as an uncompressed one.
    if (compressed && e.uncompressed_length == 0) {
      return DataLossError("pack header: compressed blob " + e.id.Hex() +
                           " has uncompressed length 0; the pack is corrupt");
    }
    entries.push_back(e);
    pos += size;
  }
  return entries;
}

Result<uint32_t> DecodePackTrailer(std::span<const uint8_t> tail, uint64_t pack_size) {
  if (tail.size() < kPackTrailerSize) {
    return DataLossError("pack is too short for its trailer (" + std::to_string(tail.size()) +
                         " bytes)");
  }
  const uint32_t len = GetU32(tail.data() + tail.size() - kPackTrailerSize);
  if (len < kSealOverhead || uint64_t{len} + kPackTrailerSize > pack_size ||
      uint64_t{len} + kPackTrailerSize > kMaxPackHeaderSize) {
    return DataLossError("pack trailer gives header length " + std::to_string(len) +
                         ", impossible for a pack of " + std::to_string(pack_size) +
                         " bytes; the pack is truncated or corrupt");
  }
  return len;
}

void AppendPackTrailer(std::vector<uint8_t>* out, uint32_t sealed_header_length) {
  PutU32(out, sealed_header_length);
}

uint64_t SealedPackHeaderSize(const std::vector<PackEntry>& entries) {
  uint64_t size = kSealOverhead;
  for (const PackEntry& e : entries) size += e.header_size();
  return size;
}

uint64_t PackSize(const std::vector<PackEntry>& entries) {
  uint64_t size = SealedPackHeaderSize(entries) + kPackTrailerSize;
  for (const PackEntry& e : entries) size += e.length;
  return size;
}

}  // namespace stash::format
