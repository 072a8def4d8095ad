#include "openssl_util.h"

#include <openssl/err.h>

#include <cstdio>
#include <cstdlib>

namespace stash::crypto::internal {
namespace {

template <typename T>
T* Required(T* alg, const char* name) {
  if (alg == nullptr) OpenSslFatal(std::string("OpenSSL has no ") + name);
  return alg;
}

}  // namespace

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = Required(EVP_MD_fetch(nullptr, "SHA256", nullptr), "SHA256");
  return md;
}

const EVP_CIPHER* Aes256CtrCipher() {
  static const EVP_CIPHER* c =
      Required(EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr), "AES-256-CTR");
  return c;
}

const EVP_CIPHER* Aes128EcbCipher() {
  static const EVP_CIPHER* c =
      Required(EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr), "AES-128-ECB");
  return c;
}

EVP_MAC* Poly1305Mac() {
  static EVP_MAC* m = Required(EVP_MAC_fetch(nullptr, "POLY1305", nullptr), "POLY1305");
  return m;
}

void OpenSslFatal(std::string_view what) {
  std::fprintf(stderr, "stash: fatal OpenSSL failure: %.*s\n", static_cast<int>(what.size()),
               what.data());
  ERR_print_errors_fp(stderr);
  std::abort();
}

}  // namespace stash::crypto::internal
