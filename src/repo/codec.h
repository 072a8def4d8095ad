// Private to repo: the small restic documents the repository layer reads and
// writes itself — key files, the master key, the config, index files and pack
// headers — as plain structs with exact encode/decode (restic-format.md §2–§5.7).
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/crypto/key.h"
#include "stash/repo/repository.h"

namespace stash::repo::codec {

std::string Base64Encode(std::span<const uint8_t> data);
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

// keys/<id>: plaintext JSON in Go field order.
struct KeyFile {
  std::string created;  // RFC3339Nano
  std::string username;
  std::string hostname;
  std::string kdf = "scrypt";
  uint64_t n = 0;
  uint32_t r = 0;
  uint32_t p = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> data;  // sealed master key JSON
};
std::string EncodeKeyFile(const KeyFile& k);
Result<KeyFile> DecodeKeyFile(std::string_view json);

// {"mac":{"k":..,"r":..},"encrypt":..}
std::string EncodeMasterKey(const crypto::Key& key);
Result<crypto::Key> DecodeMasterKey(std::string_view json);

struct Config {
  int version = 2;
  std::string id;                  // 64 hex
  std::string chunker_polynomial;  // hex, as Go's FormatUint(p, 16)
};
std::string EncodeConfig(const Config& c);
Result<Config> DecodeConfig(std::string_view json);

// One blob of an index file or pack header; offset is implicit in headers.
struct IndexEntry {
  Id id;
  BlobKind kind = BlobKind::kData;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t uncompressed_length = 0;
};
struct IndexPack {
  Id pack;
  std::vector<IndexEntry> blobs;
};
// Index file JSON (compact, then "\n" as restic's json.Encoder).
std::string EncodeIndex(const std::vector<IndexPack>& packs);
// Calls fn for every pack of an index file; `name` names the file in errors.
Status DecodeIndex(std::string_view json, std::string_view name,
                   const std::function<void(IndexPack&&)>& fn);

// Pack header: 37/41-byte entries, offsets cumulative from 0.
std::vector<uint8_t> EncodePackHeader(const std::vector<IndexEntry>& blobs);
Result<std::vector<IndexEntry>> DecodePackHeader(std::span<const uint8_t> header,
                                                 std::string_view pack_name);

}  // namespace stash::repo::codec
