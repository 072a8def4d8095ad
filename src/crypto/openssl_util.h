// Private helpers for the crypto layer: fetched OpenSSL algorithms (fetched
// once per process; EVP_*_fetch is costly) and RAII owners for EVP objects.
//
// Thread-safety: the fetch functions are thread-safe (function-local statics);
// the owners are as thread-safe as the objects they own (not at all).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string_view>

namespace stash::crypto::internal {

const EVP_MD* Sha256Md();
const EVP_CIPHER* Aes256CtrCipher();
const EVP_CIPHER* Aes128EcbCipher();
EVP_MAC* Poly1305Mac();

// Ends the process with `what` and OpenSSL's error queue. Used only where
// OpenSSL fails on valid input (allocation failure, broken installation):
// there is nothing a caller could do about it.
[[noreturn]] void OpenSslFatal(std::string_view what);

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

}  // namespace stash::crypto::internal
