#include "mac.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "openssl_util.h"

namespace stash::crypto::internal {
namespace {

// OpenSSL's cipher API takes int lengths.
constexpr size_t kMaxUpdate = size_t{1} << 30;

// One thread's contexts. Key schedules are cached: the engine seals with one
// master key for its whole run, so re-keying would be wasted work per blob.
struct ThreadContexts {
  CipherCtxPtr ctr{EVP_CIPHER_CTX_new()};
  std::array<uint8_t, 32> ctr_key{};
  bool ctr_keyed = false;

  CipherCtxPtr ecb{EVP_CIPHER_CTX_new()};
  std::array<uint8_t, 16> ecb_key{};
  bool ecb_keyed = false;

  MacCtxPtr mac{EVP_MAC_CTX_new(Poly1305Mac())};

  ThreadContexts() {
    if (!ctr || !ecb || !mac) OpenSslFatal("allocating cipher contexts");
  }
  ~ThreadContexts() {
    OPENSSL_cleanse(ctr_key.data(), ctr_key.size());
    OPENSSL_cleanse(ecb_key.data(), ecb_key.size());
  }
};

ThreadContexts& Contexts() {
  thread_local ThreadContexts t;
  return t;
}

}  // namespace

void Aes256Ctr(const std::array<uint8_t, 32>& key, const uint8_t* iv, const uint8_t* in,
               size_t size, uint8_t* out) {
  ThreadContexts& t = Contexts();
  EVP_CIPHER_CTX* ctx = t.ctr.get();
  int ok;
  if (t.ctr_keyed && t.ctr_key == key) {
    // Same key: only reset the counter block (and the keystream position).
    ok = EVP_EncryptInit_ex2(ctx, nullptr, nullptr, iv, nullptr);
  } else {
    ok = EVP_EncryptInit_ex2(ctx, Aes256CtrCipher(), key.data(), iv, nullptr);
    t.ctr_key = key;
    t.ctr_keyed = ok == 1;
  }
  if (ok != 1) OpenSslFatal("AES-256-CTR init");
  while (size > 0) {
    const size_t n = std::min(size, kMaxUpdate);
    int outl = 0;
    if (EVP_EncryptUpdate(ctx, out, &outl, in, static_cast<int>(n)) != 1 ||
        static_cast<size_t>(outl) != n) {
      OpenSslFatal("AES-256-CTR update");
    }
    in += n;
    out += n;
    size -= n;
  }
}

void Poly1305Aes(const std::array<uint8_t, 16>& k, const std::array<uint8_t, 16>& r,
                 const uint8_t* nonce, const uint8_t* msg, size_t size, uint8_t* tag) {
  ThreadContexts& t = Contexts();
  uint8_t otk[32];  // one-time key r || s
  std::memcpy(otk, r.data(), 16);
  if (!t.ecb_keyed || t.ecb_key != k) {
    t.ecb_keyed =
        EVP_EncryptInit_ex2(t.ecb.get(), Aes128EcbCipher(), k.data(), nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_set_padding(t.ecb.get(), 0) == 1;
    if (!t.ecb_keyed) OpenSslFatal("AES-128-ECB init");
    t.ecb_key = k;
  }
  int outl = 0;
  if (EVP_EncryptUpdate(t.ecb.get(), otk + 16, &outl, nonce, 16) != 1 || outl != 16) {
    OpenSslFatal("AES-128-ECB update");
  }
  // OpenSSL's Poly1305 clamps r itself.
  size_t taglen = 0;
  const bool ok = EVP_MAC_init(t.mac.get(), otk, sizeof otk, nullptr) == 1 &&
                  EVP_MAC_update(t.mac.get(), msg, size) == 1 &&
                  EVP_MAC_final(t.mac.get(), tag, &taglen, 16) == 1 && taglen == 16;
  OPENSSL_cleanse(otk, sizeof otk);
  if (!ok) OpenSslFatal("Poly1305");
}

}  // namespace stash::crypto::internal
