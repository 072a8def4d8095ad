#include "stash/format/keyfile.h"

#include <cstring>

#include "json_read.h"
#include "stash/format/base64.h"
#include "stash/format/gojson.h"

namespace stash::format {
namespace {

template <size_t N>
Status ReadFixed(const internal::Json& obj, const char* key, std::array<uint8_t, N>* out) {
  std::string bytes;
  STASH_RETURN_IF_ERROR(internal::ReadBase64(obj, key, "master key", &bytes));
  if (bytes.size() != N) {
    return InvalidError("master key: \"" + std::string(key) + "\" has " +
                        std::to_string(bytes.size()) + " bytes, want " + std::to_string(N));
  }
  std::memcpy(out->data(), bytes.data(), N);
  return Status::Ok();
}

}  // namespace

std::string EncodeKeyFile(const KeyFile& key) {
  GoJsonWriter w;
  w.BeginObject();
  w.Key("created");
  w.Time(key.created);
  w.Key("username");
  w.String(key.username);
  w.Key("hostname");
  w.String(key.hostname);
  w.Key("kdf");
  w.String(key.kdf);
  w.Key("N");
  w.Int(key.n);
  w.Key("r");
  w.Int(key.r);
  w.Key("p");
  w.Int(key.p);
  w.Key("salt");
  w.String(Base64Encode(key.salt));
  w.Key("data");
  w.String(Base64Encode(key.data));
  w.EndObject();
  return w.Take();
}

Result<KeyFile> DecodeKeyFile(std::string_view json) {
  constexpr std::string_view kDoc = "key file";
  STASH_ASSIGN_OR_RETURN(internal::Json doc, internal::ParseJson(json, kDoc));
  KeyFile k;
  k.kdf.clear();
  std::string salt, data;
  STASH_RETURN_IF_ERROR(internal::ReadTime(doc, "created", kDoc, &k.created));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "username", kDoc, &k.username));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "hostname", kDoc, &k.hostname));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "kdf", kDoc, &k.kdf));
  STASH_RETURN_IF_ERROR(internal::ReadInt(doc, "N", kDoc, &k.n));
  STASH_RETURN_IF_ERROR(internal::ReadInt(doc, "r", kDoc, &k.r));
  STASH_RETURN_IF_ERROR(internal::ReadInt(doc, "p", kDoc, &k.p));
  STASH_RETURN_IF_ERROR(internal::ReadBase64(doc, "salt", kDoc, &salt));
  STASH_RETURN_IF_ERROR(internal::ReadBase64(doc, "data", kDoc, &data));
  if (k.kdf != "scrypt") {
    return UnsupportedError("key file uses KDF \"" + k.kdf + "\"; only scrypt is supported");
  }
  if (k.n <= 1 || k.r <= 0 || k.p <= 0) {
    return InvalidError("key file has invalid scrypt parameters N=" + std::to_string(k.n) +
                        " r=" + std::to_string(k.r) + " p=" + std::to_string(k.p));
  }
  if (salt.empty() || data.empty()) return InvalidError("key file lacks salt or data");
  k.salt.assign(salt.begin(), salt.end());
  k.data.assign(data.begin(), data.end());
  return k;
}

std::string EncodeMasterKey(const MasterKey& key) {
  GoJsonWriter w;
  w.BeginObject();
  w.Key("mac");
  w.BeginObject();
  w.Key("k");
  w.String(Base64Encode(key.mac_k));
  w.Key("r");
  w.String(Base64Encode(key.mac_r));
  w.EndObject();
  w.Key("encrypt");
  w.String(Base64Encode(key.encrypt));
  w.EndObject();
  return w.Take();
}

Result<MasterKey> DecodeMasterKey(std::string_view json) {
  STASH_ASSIGN_OR_RETURN(internal::Json doc, internal::ParseJson(json, "master key"));
  auto mac = doc.find("mac");
  if (mac == doc.end()) return InvalidError("master key: \"mac\" is missing");
  STASH_RETURN_IF_ERROR(internal::ExpectObject(*mac, "master key", "\"mac\""));
  MasterKey k;
  STASH_RETURN_IF_ERROR(ReadFixed(*mac, "k", &k.mac_k));
  STASH_RETURN_IF_ERROR(ReadFixed(*mac, "r", &k.mac_r));
  STASH_RETURN_IF_ERROR(ReadFixed(doc, "encrypt", &k.encrypt));
  return k;
}

}  // namespace stash::format
