#include "stash/crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <memory>
#include <string>

namespace stash::crypto {
namespace {

// scrypt needs about 128 * r * (N + p) bytes; refuse parameters beyond this so
// a hostile key file cannot make us allocate without bound.
constexpr uint64_t kMaxMemory = uint64_t{2} << 30;

struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

std::string Describe(ScryptParams p) {
  return "scrypt parameters N=" + std::to_string(p.n) + " r=" + std::to_string(p.r) +
         " p=" + std::to_string(p.p);
}

}  // namespace

ScryptParams DefaultScryptParams() { return ScryptParams{32768, 8, 1}; }

Status ValidateScryptParams(ScryptParams params) {
  const uint64_t n = params.n, r = params.r, p = params.p;
  if (n < 2 || (n & (n - 1)) != 0) {
    return InvalidError(Describe(params) + ": N must be a power of two greater than 1");
  }
  if (r == 0 || p == 0) {
    return InvalidError(Describe(params) + ": r and p must be at least 1");
  }
  // RFC 7914: p <= (2^32 - 1) * 32 / (128 * r), i.e. r * p < 2^30.
  if (r * p >= (uint64_t{1} << 30)) {
    return InvalidError(Describe(params) + ": r * p must be below 2^30");
  }
  // RFC 7914: N < 2^(128 * r / 8).
  if (16 * r < 64 && n >= (uint64_t{1} << (16 * r))) {
    return InvalidError(Describe(params) + ": N must be below 2^(16*r)");
  }
  // OpenSSL's own accounting: 128 * r * p for B plus 128 * r * (N + 2) for V.
  const unsigned __int128 mem = static_cast<unsigned __int128>(128) * r * (n + p + 2);
  if (mem > kMaxMemory) {
    return InvalidError(Describe(params) + " need " +
                        std::to_string(static_cast<uint64_t>(mem >> 20)) +
                        " MiB, more than the 2048 MiB stash allows: the key file is not usable");
  }
  return Status::Ok();
}

Result<Key> DeriveUserKey(std::string_view password, std::span<const uint8_t> salt,
                          ScryptParams params) {
  STASH_RETURN_IF_ERROR(ValidateScryptParams(params));
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
  if (!kdf) return InternalError("OpenSSL provides no SCRYPT KDF");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return ResourceExhaustedError("allocating the scrypt context failed");

  uint64_t n = params.n, maxmem = kMaxMemory;
  uint32_t r = params.r, p = params.p;
  // OpenSSL wants non-const pointers but does not write through them.
  OSSL_PARAM ossl[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  uint8_t out[64];
  if (EVP_KDF_derive(ctx.get(), out, sizeof out, ossl) != 1) {
    const unsigned long err = ERR_get_error();
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    ERR_clear_error();
    return ResourceExhaustedError("scrypt key derivation with " + Describe(params) + " failed (" +
                                  buf + "); free some memory and retry")
        .SetRetryable(false);
  }
  Key key;
  std::memcpy(key.encrypt.data(), out, 32);
  std::memcpy(key.mac_k.data(), out + 32, 16);
  std::memcpy(key.mac_r.data(), out + 48, 16);
  OPENSSL_cleanse(out, sizeof out);
  return key;
}

}  // namespace stash::crypto
