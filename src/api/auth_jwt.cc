#include "auth_jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "certs.h"
#include "stash/core/base64.h"

namespace stash::api {

using json = nlohmann::json;

struct TokenSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

Status SslError(std::string_view what) {
  return InternalError("ServiceAccount token key: " + std::string(what) + " failed in OpenSSL");
}

std::string BigNumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &bn)) return "";
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

Status Unauthorized(std::string why) { return UnauthorizedError("invalid bearer token: " + why); }

}  // namespace

TokenSigner::TokenSigner(std::unique_ptr<Key> key, std::string kid, json jwk)
    : key_(std::move(key)), kid_(std::move(kid)), jwk_(std::move(jwk)) {}
TokenSigner::~TokenSigner() = default;

Result<std::unique_ptr<TokenSigner>> TokenSigner::LoadOrCreate(const std::string& key_path) {
  auto key = std::make_unique<Key>();
  if (::access(key_path.c_str(), R_OK) == 0) {
    STASH_ASSIGN_OR_RETURN(std::string pem, ReadFile(key_path));
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    key->pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!key->pkey || EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA) {
      return InvalidError("ServiceAccount token key " + key_path +
                          " is not an RSA private key in PEM; remove it to have a new one made "
                          "(tokens signed with the old key stop working)");
    }
  } else {
    key->pkey = EVP_RSA_gen(2048);
    if (!key->pkey) return SslError("RSA key generation");
    BIO* bio = BIO_new(BIO_s_mem());
    if (!PEM_write_bio_PrivateKey(bio, key->pkey, nullptr, nullptr, 0, nullptr, nullptr)) {
      BIO_free(bio);
      return SslError("PEM_write_bio_PrivateKey");
    }
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    STASH_RETURN_IF_ERROR(WriteFileAtomic(key_path, pem, 0600));
  }
  // kid: as kube-apiserver, the base64url SHA-256 of the public key's DER.
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(key->pkey, &der);
  if (der_len <= 0) return SslError("i2d_PUBKEY");
  unsigned char digest[32];
  unsigned int digest_len = 0;
  EVP_Digest(der, static_cast<size_t>(der_len), digest, &digest_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  std::string kid = Base64Encode(
      std::string_view(reinterpret_cast<const char*>(digest), digest_len), Base64Encoding::kRawUrl);
  json jwk = {
      {"use", "sig"},
      {"kty", "RSA"},
      {"kid", kid},
      {"alg", "RS256"},
      {"n", Base64Encode(BigNumParam(key->pkey, OSSL_PKEY_PARAM_RSA_N), Base64Encoding::kRawUrl)},
      {"e", Base64Encode(BigNumParam(key->pkey, OSSL_PKEY_PARAM_RSA_E), Base64Encoding::kRawUrl)}};
  return std::unique_ptr<TokenSigner>(new TokenSigner(std::move(key), kid, std::move(jwk)));
}

Result<std::string> TokenSigner::Sign(const json& claims) const {
  json header = {{"alg", "RS256"}, {"kid", kid_}};
  std::string input = Base64Encode(header.dump(), Base64Encoding::kRawUrl) + "." +
                      Base64Encode(claims.dump(), Base64Encoding::kRawUrl);
  MdCtx md;
  size_t sig_len = 0;
  if (!md.ctx || EVP_DigestSignInit(md.ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(md.ctx, nullptr, &sig_len, nullptr, 0) != 1) {
    return SslError("EVP_DigestSignInit");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(md.ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return SslError("EVP_DigestSign");
  }
  sig.resize(sig_len);
  return input + "." + Base64Encode(sig, Base64Encoding::kRawUrl);
}

Result<json> TokenSigner::Verify(std::string_view token) const {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthorized("not a JSON Web Token");
  }
  // JWT segments are base64url without padding (RFC 7515 §2).
  auto header_text = Base64Decode(token.substr(0, dot1), Base64Encoding::kRawUrl);
  auto claims_text = Base64Decode(token.substr(dot1 + 1, dot2 - dot1 - 1), Base64Encoding::kRawUrl);
  auto sig = Base64Decode(token.substr(dot2 + 1), Base64Encoding::kRawUrl);
  if (!header_text.ok() || !claims_text.ok() || !sig.ok()) {
    return Unauthorized("malformed base64url");
  }
  json header = json::parse(*header_text, nullptr, false);
  if (!header.is_object() || header.value("alg", "") != "RS256") {
    return Unauthorized("unsupported signing algorithm");
  }
  if (header.contains("kid") && header["kid"] != kid_) return Unauthorized("unknown key id");
  MdCtx md;
  if (!md.ctx || EVP_DigestVerifyInit(md.ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) != 1) {
    return SslError("EVP_DigestVerifyInit");
  }
  std::string_view input = token.substr(0, dot2);
  if (EVP_DigestVerify(md.ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Unauthorized("signature does not verify");
  }
  json claims = json::parse(*claims_text, nullptr, false);
  if (!claims.is_object()) return Unauthorized("claims are not a JSON object");
  return claims;
}

json TokenSigner::Jwks() const { return {{"keys", json::array({jwk_})}}; }

}  // namespace stash::api
