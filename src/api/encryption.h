// EncryptionAtRest: kube-apiserver's EncryptionConfiguration
// (apiserver.config.k8s.io/v1, --encryption-provider-config) for the
// embedded store, so a Secret's value is never in a database file in the
// clear — neither while it exists nor after its deletion.
//
// The configuration lists resources ("secrets", "configmaps",
// "deployments.apps", "*.apps", "*.*") and, for each, providers in order:
// `aesgcm` and `aescbc` (keys: [{name, secret: base64 of 16/24/32 bytes}])
// and `identity`. Values are written with the first provider and read with
// whichever one their prefix names, so keys rotate as in Kubernetes: add the
// new key first, restart, rewrite (any update), then drop the old key. The
// stored forms are kube's: `k8s:enc:aesgcm:v1:<key>:` + 12-byte nonce +
// ciphertext + 16-byte tag (the row's name is the authenticated data), and
// `k8s:enc:aescbc:v1:<key>:` + 16-byte IV + PKCS#7 ciphertext.
//
// `stash server` keeps the file in its data directory
// (encryption-config.yaml, 0600) and creates it on first start with a fresh
// 32-byte aesgcm key for secrets. As for kube-apiserver, the key protects the
// database files (copies, backups, a stolen disk), not a data directory that
// is read whole: keep the file out of database backups. AES-GCM with random
// nonces is good for about 2^32 writes per key; rotate before that.
//
// Thread-safety: ToStorage/FromStorage may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/random.h"
#include "stash/core/result.h"
#include "store.h"

namespace stash::api {

class EncryptionAtRest final : public ValueTransformer {
 public:
  // Parses an EncryptionConfiguration document (YAML or JSON); kInvalid
  // with what is wrong and where.
  static Result<std::unique_ptr<EncryptionAtRest>> Parse(std::string_view text, Random& random);
  // Reads `path`, or writes a new configuration there first (mode 0600) that
  // encrypts secrets with a random aesgcm key.
  static Result<std::unique_ptr<EncryptionAtRest>> LoadOrCreate(const std::string& path,
                                                                Random& random);
  // A configuration document encrypting secrets with `key` (32 bytes).
  static std::string NewConfig(std::string_view key);

  bool Applies(const std::string& resource) const override;
  Result<std::string> ToStorage(const std::string& resource, std::string_view value,
                                std::string_view context) override;
  Result<std::string> FromStorage(const std::string& resource, std::string_view stored,
                                  std::string_view context, bool* stale) override;

  struct Key {
    std::string name;
    std::string secret;  // raw bytes
  };
  struct Provider {
    std::string type;  // "aesgcm", "aescbc" or "identity"
    std::vector<Key> keys;
  };
  struct Rule {
    std::vector<std::string> resources;  // as written: "secrets", "*.apps", ...
    std::vector<Provider> providers;
  };

 private:
  EncryptionAtRest(std::vector<Rule> rules, Random& random)
      : rules_(std::move(rules)), random_(random) {}
  const Rule* RuleFor(const std::string& resource) const;

  std::vector<Rule> rules_;
  Random& random_;
};

}  // namespace stash::api
