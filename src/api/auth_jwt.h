// TokenSigner: the API server's ServiceAccount token key (RSA 2048, the
// data directory's sa.key, 0600) and the RS256 JSON Web Tokens made and
// checked with it, as kube-apiserver's --service-account-signing-key-file.
// Only the signature and the token's shape are checked here; what the claims
// mean (expiry, audience, bound objects) is the authenticator's business.
//
// Thread-safety: immutable after LoadOrCreate; Sign and Verify may be called
// concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::api {

class TokenSigner {
 public:
  // Reads `key_path` (PEM private key), or creates a new RSA key there.
  static Result<std::unique_ptr<TokenSigner>> LoadOrCreate(const std::string& key_path);
  ~TokenSigner();

  // header.claims.signature, base64url without padding.
  Result<std::string> Sign(const nlohmann::json& claims) const;
  // The claims of a token this key signed; kUnauthorized for anything else
  // (wrong shape, algorithm, key id or signature).
  Result<nlohmann::json> Verify(std::string_view token) const;
  // The public key as a JSON Web Key Set (/openid/v1/jwks).
  nlohmann::json Jwks() const;
  const std::string& key_id() const { return kid_; }

 private:
  struct Key;
  TokenSigner(std::unique_ptr<Key> key, std::string kid, nlohmann::json jwk);
  std::unique_ptr<Key> key_;
  std::string kid_;
  nlohmann::json jwk_;
};

}  // namespace stash::api
