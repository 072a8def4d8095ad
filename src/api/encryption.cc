#include "encryption.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>

#include "certs.h"
#include "stash/core/base64.h"
#include "yaml_json.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

constexpr std::string_view kPrefix = "k8s:enc:";
constexpr size_t kGcmNonce = 12, kGcmTag = 16, kCbcIv = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_CIPHER* GcmCipher(size_t key_size) {
  switch (key_size) {
    case 16:
      return EVP_aes_128_gcm();
    case 24:
      return EVP_aes_192_gcm();
    default:
      return EVP_aes_256_gcm();
  }
}

const EVP_CIPHER* CbcCipher(size_t key_size) {
  switch (key_size) {
    case 16:
      return EVP_aes_128_cbc();
    case 24:
      return EVP_aes_192_cbc();
    default:
      return EVP_aes_256_cbc();
  }
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Result<std::string> GcmSeal(const std::string& key, std::string_view nonce, std::string_view plain,
                            std::string_view aad) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(plain.size() + kGcmTag, '\0');
  int len = 0, fin = 0;
  bool ok = ctx &&
            EVP_EncryptInit_ex(ctx.get(), GcmCipher(key.size()), nullptr, nullptr, nullptr) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonce, nullptr) &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) &&
            EVP_EncryptUpdate(ctx.get(), U(out), &len, U(plain), static_cast<int>(plain.size())) &&
            EVP_EncryptFinal_ex(ctx.get(), U(out) + len, &fin) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTag, U(out) + plain.size());
  if (!ok) return InternalError("encrypting a value at rest: AES-GCM failed in OpenSSL");
  return out;
}

Result<std::string> GcmOpen(const std::string& key, std::string_view data, std::string_view aad) {
  if (data.size() < kGcmNonce + kGcmTag) return DataLossError("the AES-GCM value is truncated");
  std::string_view nonce = data.substr(0, kGcmNonce);
  std::string_view sealed = data.substr(kGcmNonce, data.size() - kGcmNonce - kGcmTag);
  std::string tag(data.substr(data.size() - kGcmTag));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(sealed.size(), '\0');
  int len = 0, fin = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), GcmCipher(key.size()), nullptr, nullptr, nullptr) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonce, nullptr) &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) &&
      EVP_DecryptUpdate(ctx.get(), U(out), &len, U(sealed), static_cast<int>(sealed.size())) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTag, U(tag)) &&
      EVP_DecryptFinal_ex(ctx.get(), U(out) + len, &fin) > 0;
  if (!ok) return DataLossError("the AES-GCM value does not authenticate (wrong key or altered)");
  return out;
}

Result<std::string> CbcSeal(const std::string& key, std::string_view iv, std::string_view plain) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(plain.size() + kCbcIv, '\0');
  int len = 0, fin = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), CbcCipher(key.size()), nullptr, U(key), U(iv)) &&
            EVP_EncryptUpdate(ctx.get(), U(out), &len, U(plain), static_cast<int>(plain.size())) &&
            EVP_EncryptFinal_ex(ctx.get(), U(out) + len, &fin);
  if (!ok) return InternalError("encrypting a value at rest: AES-CBC failed in OpenSSL");
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

Result<std::string> CbcOpen(const std::string& key, std::string_view data) {
  if (data.size() < kCbcIv || (data.size() - kCbcIv) % kCbcIv != 0) {
    return DataLossError("the AES-CBC value is not a whole number of blocks");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string_view body = data.substr(kCbcIv);
  std::string out(body.size() + kCbcIv, '\0');
  int len = 0, fin = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), CbcCipher(key.size()), nullptr, U(key), U(data)) &&
            EVP_DecryptUpdate(ctx.get(), U(out), &len, U(body), static_cast<int>(body.size())) &&
            EVP_DecryptFinal_ex(ctx.get(), U(out) + len, &fin) > 0;
  if (!ok) return DataLossError("the AES-CBC value does not decrypt (wrong key or altered)");
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

std::string Header(const std::string& type, const std::string& key_name) {
  return std::string(kPrefix) + type + ":v1:" + key_name + ":";
}

Result<EncryptionAtRest::Provider> ParseProvider(const json& p, const std::string& where) {
  if (!p.is_object() || p.size() != 1) {
    return InvalidError(where + ": a provider is an object with one of aesgcm, aescbc, identity");
  }
  EncryptionAtRest::Provider out;
  out.type = p.begin().key();
  if (out.type == "identity") return out;
  if (out.type != "aesgcm" && out.type != "aescbc") {
    return InvalidError(where + ": provider \"" + out.type +
                        "\" is not supported (use aesgcm, aescbc or identity)");
  }
  const json& body = p.begin().value();
  const json keys = body.is_object() ? body.value("keys", json()) : json();
  if (!keys.is_array() || keys.empty()) return InvalidError(where + "." + out.type + ": no keys");
  for (const json& k : keys) {
    const std::string name =
        k.is_object() && k.value("name", json()).is_string() ? k["name"].get<std::string>() : "";
    const json secret = k.is_object() ? k.value("secret", json()) : json();
    if (name.empty() || name.find(':') != std::string::npos || !secret.is_string()) {
      return InvalidError(where + "." + out.type +
                          ": each key needs a name (without ':') and a base64 secret");
    }
    auto raw = Base64Decode(secret.get<std::string>());
    size_t n = raw.ok() ? raw->size() : 0;
    if (!raw.ok() || (n != 32 && (out.type == "aescbc" || (n != 16 && n != 24)))) {
      return InvalidError(where + "." + out.type + ": key \"" + name + "\" must be base64 of " +
                          (out.type == "aescbc" ? "32 bytes" : "16, 24 or 32 bytes"));
    }
    out.keys.push_back({name, std::move(*raw)});
  }
  return out;
}

// "secrets" matches "/secrets"; "deployments.apps" "apps/deployments";
// "*.apps" every resource of apps; "*." every core resource; "*.*" all.
bool Covers(const std::string& pattern, const std::string& resource) {
  size_t slash = resource.find('/');
  const std::string group = resource.substr(0, slash), plural = resource.substr(slash + 1);
  const std::string name = group.empty() ? plural : plural + "." + group;
  if (pattern == "*.*" || pattern == name) return true;
  if (pattern.starts_with("*.")) return pattern.substr(2) == group;
  return false;
}

}  // namespace

Result<std::unique_ptr<EncryptionAtRest>> EncryptionAtRest::Parse(std::string_view text,
                                                                  Random& random) {
  STASH_ASSIGN_OR_RETURN(std::vector<json> docs, YamlToJson(text));
  if (docs.size() != 1 || !docs[0].is_object() ||
      docs[0].value("kind", json()) != "EncryptionConfiguration") {
    return InvalidError("the encryption configuration must be one EncryptionConfiguration object");
  }
  const json resources = docs[0].value("resources", json::array());
  if (!resources.is_array())
    return InvalidError("EncryptionConfiguration.resources must be a list");
  std::vector<Rule> rules;
  for (size_t i = 0; i < resources.size(); ++i) {
    const std::string where = "resources[" + std::to_string(i) + "]";
    const json& r = resources[i];
    Rule rule;
    const json names = r.is_object() ? r.value("resources", json()) : json();
    const json providers = r.is_object() ? r.value("providers", json()) : json();
    if (!names.is_array() || names.empty() || !providers.is_array() || providers.empty()) {
      return InvalidError(where + ": needs resources and providers lists");
    }
    for (const json& n : names) {
      if (!n.is_string()) return InvalidError(where + ".resources: names must be strings");
      rule.resources.push_back(n.get<std::string>());
    }
    for (size_t j = 0; j < providers.size(); ++j) {
      STASH_ASSIGN_OR_RETURN(
          Provider p, ParseProvider(providers[j], where + ".providers[" + std::to_string(j) + "]"));
      rule.providers.push_back(std::move(p));
    }
    rules.push_back(std::move(rule));
  }
  return std::unique_ptr<EncryptionAtRest>(new EncryptionAtRest(std::move(rules), random));
}

std::string EncryptionAtRest::NewConfig(std::string_view key) {
  return "# Encryption at rest of the embedded API server's store, as kube-apiserver's\n"
         "# --encryption-provider-config. Keep this file out of copies of state.db.\n"
         "apiVersion: apiserver.config.k8s.io/v1\n"
         "kind: EncryptionConfiguration\n"
         "resources:\n"
         "  - resources:\n"
         "      - secrets\n"
         "    providers:\n"
         "      - aesgcm:\n"
         "          keys:\n"
         "            - name: key1\n"
         "              secret: " +
         Base64Encode(key) +
         "\n"
         "      - identity: {}\n";
}

Result<std::unique_ptr<EncryptionAtRest>> EncryptionAtRest::LoadOrCreate(const std::string& path,
                                                                         Random& random) {
  if (::access(path.c_str(), F_OK) != 0) {
    std::array<uint8_t, 32> key{};
    random.Fill(key);
    std::string config =
        NewConfig(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    STASH_RETURN_IF_ERROR(WriteFileAtomic(path, config, 0600));
  }
  ::chmod(path.c_str(), 0600);
  STASH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto parsed = Parse(text, random);
  if (!parsed.ok()) return Status(parsed.status()).Prepend("encryption configuration " + path);
  return parsed;
}

const EncryptionAtRest::Rule* EncryptionAtRest::RuleFor(const std::string& resource) const {
  for (const Rule& r : rules_) {
    for (const std::string& pattern : r.resources) {
      if (Covers(pattern, resource)) return &r;
    }
  }
  return nullptr;
}

bool EncryptionAtRest::Applies(const std::string& resource) const {
  const Rule* r = RuleFor(resource);
  return r && r->providers.front().type != "identity";
}

Result<std::string> EncryptionAtRest::ToStorage(const std::string& resource, std::string_view value,
                                                std::string_view context) {
  const Rule* r = RuleFor(resource);
  if (!r || r->providers.front().type == "identity") return std::string(value);
  const Provider& p = r->providers.front();
  const Key& key = p.keys.front();
  const bool gcm = p.type == "aesgcm";
  std::string nonce(gcm ? kGcmNonce : kCbcIv, '\0');
  random_.Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(nonce.data()), nonce.size()));
  STASH_ASSIGN_OR_RETURN(std::string sealed, gcm ? GcmSeal(key.secret, nonce, value, context)
                                                 : CbcSeal(key.secret, nonce, value));
  return Header(p.type, key.name) + nonce + sealed;
}

Result<std::string> EncryptionAtRest::FromStorage(const std::string& resource,
                                                  std::string_view stored, std::string_view context,
                                                  bool* stale) {
  const Rule* rule = RuleFor(resource);
  const Provider* first = rule ? &rule->providers.front() : nullptr;
  const bool want_plain = !first || first->type == "identity";
  if (!stored.starts_with(kPrefix)) {
    *stale = !want_plain;
    return std::string(stored);
  }
  // k8s:enc:<type>:v1:<key>:<data>
  std::string_view rest = stored.substr(kPrefix.size());
  size_t a = rest.find(':'), b = a == std::string_view::npos ? a : rest.find(':', a + 1),
         c = b == std::string_view::npos ? b : rest.find(':', b + 1);
  if (c == std::string_view::npos) {
    return DataLossError("a stored " + resource + " value has a malformed encryption prefix");
  }
  const std::string type(rest.substr(0, a)), key_name(rest.substr(b + 1, c - b - 1));
  std::string_view data = rest.substr(c + 1);
  for (const Rule& r : rules_) {
    for (const Provider& p : r.providers) {
      if (p.type != type) continue;
      for (const Key& k : p.keys) {
        if (k.name != key_name) continue;
        *stale = want_plain || first->type != type || first->keys.front().name != key_name;
        return type == "aesgcm" ? GcmOpen(k.secret, data, context) : CbcOpen(k.secret, data);
      }
    }
  }
  return DataLossError("a stored " + resource + " value is encrypted with " + type + " key \"" +
                       key_name +
                       "\", which the encryption configuration does not list; add that key back");
}

}  // namespace stash::api
