#include "codec.h"

#include <openssl/evp.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "stash/format/index.h"

namespace stash::repo::codec {

namespace {

using nlohmann::json;

Result<json> Parse(std::string_view text, std::string_view what) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return DataLossError(std::string(what) + " is not valid JSON: " + e.what());
  }
}

// "field \"N\" is missing" / "field \"N\" is a string (\"1024\"), want <want>".
Status FieldError(const json& j, const char* key, std::string_view what, std::string_view want) {
  std::string msg = std::string(what) + ": field \"" + key + "\" ";
  auto it = j.find(key);
  if (it == j.end()) return DataLossError(msg + "is missing");
  std::string value = it->dump(-1, ' ', false, json::error_handler_t::replace);
  if (value.size() > 40) value = value.substr(0, 37) + "...";
  return DataLossError(msg + "is " +
                       (it->is_null() ? std::string("null") : "a " + std::string(it->type_name())) +
                       " (" + value + "), want " + std::string(want));
}

// Reads a string member; kDataLoss naming the document when absent or mistyped.
Result<std::string> GetString(const json& j, const char* key, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return FieldError(j, key, what, "a string");
  return it->get<std::string>();
}

Result<uint64_t> GetUint(const json& j, const char* key, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) {
    if (it != j.end() && it->is_number_integer() && it->get<int64_t>() >= 0) {
      return static_cast<uint64_t>(it->get<int64_t>());
    }
    return FieldError(j, key, what, "a non-negative integer");
  }
  return it->get<uint64_t>();
}

Result<std::vector<uint8_t>> GetB64(const json& j, const char* key, std::string_view what) {
  STASH_ASSIGN_OR_RETURN(std::string s, GetString(j, key, what));
  auto r = Base64Decode(s);
  if (!r.ok()) {
    return DataLossError(std::string(what) + ": field \"" + key +
                         "\" is not base64: " + r.status().message());
  }
  return r;
}

// Go's json.Marshal escapes these; key file fields are plain ASCII in
// practice, but a hostname could carry anything.
std::string Quote(std::string_view s) { return json(std::string(s)).dump(); }

void PutU32(uint8_t* p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(n);
  return out;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return InvalidError("base64 length is not a multiple of 4");
  std::vector<uint8_t> out(text.size() / 4 * 3 + 1);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return InvalidError("invalid base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string EncodeKeyFile(const KeyFile& k) {
  std::string s = "{\"created\":" + Quote(k.created) + ",\"username\":" + Quote(k.username) +
                  ",\"hostname\":" + Quote(k.hostname) + ",\"kdf\":" + Quote(k.kdf) +
                  ",\"N\":" + std::to_string(k.n) + ",\"r\":" + std::to_string(k.r) +
                  ",\"p\":" + std::to_string(k.p) + ",\"salt\":\"" + Base64Encode(k.salt) +
                  "\",\"data\":\"" + Base64Encode(k.data) + "\"}";
  return s;
}

Result<KeyFile> DecodeKeyFile(std::string_view text) {
  constexpr std::string_view kWhat = "key file";
  STASH_ASSIGN_OR_RETURN(json j, Parse(text, kWhat));
  if (!j.is_object()) return DataLossError("key file is not a JSON object");
  KeyFile k;
  if (auto it = j.find("created"); it != j.end() && it->is_string()) k.created = *it;
  if (auto it = j.find("username"); it != j.end() && it->is_string()) k.username = *it;
  if (auto it = j.find("hostname"); it != j.end() && it->is_string()) k.hostname = *it;
  STASH_ASSIGN_OR_RETURN(k.kdf, GetString(j, "kdf", kWhat));
  STASH_ASSIGN_OR_RETURN(k.n, GetUint(j, "N", kWhat));
  STASH_ASSIGN_OR_RETURN(uint64_t r, GetUint(j, "r", kWhat));
  STASH_ASSIGN_OR_RETURN(uint64_t p, GetUint(j, "p", kWhat));
  if (r > UINT32_MAX || p > UINT32_MAX) return DataLossError("key file: r or p out of range");
  k.r = static_cast<uint32_t>(r);
  k.p = static_cast<uint32_t>(p);
  STASH_ASSIGN_OR_RETURN(k.salt, GetB64(j, "salt", kWhat));
  STASH_ASSIGN_OR_RETURN(k.data, GetB64(j, "data", kWhat));
  return k;
}

std::string EncodeMasterKey(const crypto::Key& key) {
  return "{\"mac\":{\"k\":\"" + Base64Encode(key.mac_k) + "\",\"r\":\"" + Base64Encode(key.mac_r) +
         "\"},\"encrypt\":\"" + Base64Encode(key.encrypt) + "\"}";
}

Result<crypto::Key> DecodeMasterKey(std::string_view text) {
  constexpr std::string_view kWhat = "master key";
  STASH_ASSIGN_OR_RETURN(json j, Parse(text, kWhat));
  auto mac = j.find("mac");
  if (!j.is_object() || mac == j.end() || !mac->is_object()) {
    return DataLossError("master key: field \"mac\" missing");
  }
  STASH_ASSIGN_OR_RETURN(std::vector<uint8_t> k, GetB64(*mac, "k", kWhat));
  STASH_ASSIGN_OR_RETURN(std::vector<uint8_t> r, GetB64(*mac, "r", kWhat));
  STASH_ASSIGN_OR_RETURN(std::vector<uint8_t> enc, GetB64(j, "encrypt", kWhat));
  crypto::Key key;
  if (k.size() != key.mac_k.size() || r.size() != key.mac_r.size() ||
      enc.size() != key.encrypt.size()) {
    return DataLossError("master key: wrong key lengths");
  }
  std::memcpy(key.mac_k.data(), k.data(), k.size());
  std::memcpy(key.mac_r.data(), r.data(), r.size());
  std::memcpy(key.encrypt.data(), enc.data(), enc.size());
  return key;
}

std::string EncodeConfig(const Config& c) {
  return "{\"version\":" + std::to_string(c.version) + ",\"id\":\"" + c.id +
         "\",\"chunker_polynomial\":\"" + c.chunker_polynomial + "\"}";
}

Result<Config> DecodeConfig(std::string_view text) {
  constexpr std::string_view kWhat = "config";
  STASH_ASSIGN_OR_RETURN(json j, Parse(text, kWhat));
  if (!j.is_object()) return DataLossError("config is not a JSON object");
  Config c;
  STASH_ASSIGN_OR_RETURN(uint64_t v, GetUint(j, "version", kWhat));
  c.version = static_cast<int>(v > 1000 ? 1000 : v);
  STASH_ASSIGN_OR_RETURN(c.id, GetString(j, "id", kWhat));
  STASH_ASSIGN_OR_RETURN(c.chunker_polynomial, GetString(j, "chunker_polynomial", kWhat));
  return c;
}

std::string EncodeIndex(const std::vector<IndexPack>& packs) {
  std::string s = "{\"packs\":[";
  s.reserve(packs.size() * 200);
  bool first_pack = true;
  for (const IndexPack& p : packs) {
    if (!first_pack) s += ',';
    first_pack = false;
    s += "{\"id\":\"" + p.pack.Hex() + "\",\"blobs\":[";
    bool first = true;
    for (const IndexEntry& b : p.blobs) {
      if (!first) s += ',';
      first = false;
      s += "{\"id\":\"";
      s += b.id.Hex();
      s += "\",\"type\":\"";
      s += b.kind == BlobKind::kTree ? "tree" : "data";
      s += "\",\"offset\":" + std::to_string(b.offset) + ",\"length\":" + std::to_string(b.length);
      if (b.uncompressed_length) {
        s += ",\"uncompressed_length\":" + std::to_string(b.uncompressed_length);
      }
      s += '}';
    }
    s += "]}";
  }
  s += "]}\n";
  return s;
}

Status DecodeIndex(std::string_view text, std::string_view name,
                   const std::function<void(IndexPack&&)>& fn) {
  // format's pull parser: no DOM, so a large index costs little beyond its
  // entries while loading.
  auto file = format::DecodeIndex(text);
  if (!file.ok()) {
    return DataLossError("index " + std::string(name) + ": " + file.status().message());
  }
  for (format::IndexPack& p : file->packs) {
    IndexPack ip;
    ip.pack = p.id;
    ip.blobs.reserve(p.blobs.size());
    for (const format::IndexPackBlob& b : p.blobs) {
      IndexEntry e;
      e.id = b.id;
      e.kind = b.type == format::BlobType::kTree ? BlobKind::kTree : BlobKind::kData;
      e.offset = b.offset;
      e.length = b.length;
      e.uncompressed_length = b.uncompressed_length;
      ip.blobs.push_back(e);
    }
    p.blobs.clear();
    p.blobs.shrink_to_fit();
    fn(std::move(ip));
  }
  return Status::Ok();
}

std::vector<uint8_t> EncodePackHeader(const std::vector<IndexEntry>& blobs) {
  std::vector<uint8_t> out;
  out.reserve(blobs.size() * 41);
  for (const IndexEntry& b : blobs) {
    uint8_t type = b.kind == BlobKind::kTree ? 1 : 0;
    if (b.uncompressed_length) type += 2;
    size_t at = out.size();
    out.resize(at + (b.uncompressed_length ? 41 : 37));
    uint8_t* p = out.data() + at;
    *p++ = type;
    PutU32(p, b.length);
    p += 4;
    if (b.uncompressed_length) {
      PutU32(p, b.uncompressed_length);
      p += 4;
    }
    std::memcpy(p, b.id.data(), Id::kSize);
  }
  return out;
}

Result<std::vector<IndexEntry>> DecodePackHeader(std::span<const uint8_t> h,
                                                 std::string_view pack_name) {
  std::vector<IndexEntry> out;
  size_t pos = 0;
  uint64_t offset = 0;
  while (pos < h.size()) {
    uint8_t type = h[pos];
    if (type > 3) {
      return DataLossError("pack " + std::string(pack_name) + ": header entry " +
                           std::to_string(out.size()) + " has invalid type " +
                           std::to_string(type));
    }
    size_t size = type >= 2 ? 41 : 37;
    if (pos + size > h.size()) {
      return DataLossError("pack " + std::string(pack_name) + ": header is truncated");
    }
    IndexEntry e;
    e.kind = (type & 1) ? BlobKind::kTree : BlobKind::kData;
    e.length = GetU32(&h[pos + 1]);
    if (type >= 2) e.uncompressed_length = GetU32(&h[pos + 5]);
    e.id = Id::FromBytes(&h[pos + size - 32]);
    // Below IV+MAC there is no sealed blob (and its plaintext length would
    // wrap); a compressed entry of plaintext length 0 would read as
    // uncompressed.
    if (e.length < 32 || (type >= 2 && e.uncompressed_length == 0)) {
      return DataLossError("pack " + std::string(pack_name) + ": header entry " +
                           std::to_string(out.size()) + " (blob " + e.id.ShortHex() +
                           ") has impossible lengths " + std::to_string(e.length) + "/" +
                           std::to_string(e.uncompressed_length));
    }
    if (offset > UINT32_MAX) {
      return DataLossError("pack " + std::string(pack_name) + ": blob offsets exceed 4 GiB");
    }
    e.offset = static_cast<uint32_t>(offset);
    offset += e.length;
    out.push_back(e);
    pos += size;
  }
  return out;
}

}  // namespace stash::repo::codec
