#include "stash/format/keyfile.h"

#include <cstring>

#include "json_scan.h"
#include "stash/core/base64.h"
#include "stash/format/gojson.h"

namespace stash::format {
namespace {

template <size_t N>
Status ReadFixed(internal::JsonScanner& js, std::array<uint8_t, N>* out) {
  std::string bytes;
  STASH_RETURN_IF_ERROR(js.Base64(&bytes));
  if (bytes.size() != N) {
    return InvalidError("has " + std::to_string(bytes.size()) + " bytes, want " +
                        std::to_string(N));
  }
  std::memcpy(out->data(), bytes.data(), N);
  return Status::Ok();
}

}  // namespace

std::string EncodeKeyFile(const KeyFile& key) {
  GoJsonWriter w;
  w.BeginObject();
  w.TimeField("created", key.created);
  w.StringField("username", key.username);
  w.StringField("hostname", key.hostname);
  w.StringField("kdf", key.kdf);
  w.IntField("N", key.n);
  w.IntField("r", key.r);
  w.IntField("p", key.p);
  w.StringField("salt", Base64Encode(key.salt));
  w.StringField("data", Base64Encode(key.data));
  w.EndObject();
  return w.Take();
}

Result<KeyFile> DecodeKeyFile(std::string_view json) {
  internal::JsonScanner js(json, "key file");
  KeyFile k;
  k.kdf.clear();
  std::string salt, data;
  Status status = js.Document([&](const std::string& key) -> Status {
    if (key == "created") return js.Time(&k.created);
    if (key == "username") return js.String(&k.username);
    if (key == "hostname") return js.String(&k.hostname);
    if (key == "kdf") return js.String(&k.kdf);
    if (key == "N") return js.Int(&k.n);
    if (key == "r") return js.Int(&k.r);
    if (key == "p") return js.Int(&k.p);
    if (key == "salt") return js.Base64(&salt);
    if (key == "data") return js.Base64(&data);
    return js.Skip();
  });
  if (!status.ok()) return status;
  if (k.kdf.empty()) {
    return InvalidError("key file: field \"kdf\" is missing or null; want \"scrypt\"");
  }
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
  w.StringField("k", Base64Encode(key.mac_k));
  w.StringField("r", Base64Encode(key.mac_r));
  w.EndObject();
  w.StringField("encrypt", Base64Encode(key.encrypt));
  w.EndObject();
  return w.Take();
}

Result<MasterKey> DecodeMasterKey(std::string_view json) {
  internal::JsonScanner js(json, "master key");
  MasterKey k;
  bool have_k = false, have_r = false, have_encrypt = false;
  Status status = js.Object([&](const std::string& key) -> Status {
    if (key == "mac") {
      return js.Object([&](const std::string& part) -> Status {
        if (part == "k") {
          have_k = true;
          return ReadFixed(js, &k.mac_k);
        }
        if (part == "r") {
          have_r = true;
          return ReadFixed(js, &k.mac_r);
        }
        return js.Skip();
      });
    }
    if (key == "encrypt") {
      have_encrypt = true;
      return ReadFixed(js, &k.encrypt);
    }
    return js.Skip();
  });
  if (status.ok()) status = js.Finish();
  if (status.ok() && !(have_k && have_r && have_encrypt)) {
    status = InvalidError("mac.k, mac.r or encrypt is missing");
  }
  if (!status.ok()) return std::move(status).Prepend("master key");
  return k;
}

}  // namespace stash::format
