#include "stash/crypto/sha256.h"

#include "openssl_util.h"

namespace stash::crypto {

using internal::MdCtxPtr;
using internal::OpenSslFatal;
using internal::Sha256Md;

namespace {

void MdInit(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) != 1) OpenSslFatal("SHA-256 init");
}

void MdUpdate(EVP_MD_CTX* ctx, const void* data, size_t size) {
  if (EVP_DigestUpdate(ctx, data, size) != 1) OpenSslFatal("SHA-256 update");
}

Id MdFinal(EVP_MD_CTX* ctx) {
  Id id;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, id.data(), &len) != 1 || len != Id::kSize) {
    OpenSslFatal("SHA-256 final");
  }
  return id;
}

EVP_MD_CTX* NewCtx() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) OpenSslFatal("EVP_MD_CTX_new");
  return ctx;
}

Id OneShot(const void* data, size_t size) {
  // Reusing one context per thread keeps small hashes (tree blobs, ids of
  // key files) free of allocations.
  thread_local MdCtxPtr ctx(NewCtx());
  MdInit(ctx.get());
  MdUpdate(ctx.get(), data, size);
  return MdFinal(ctx.get());
}

}  // namespace

Id Sha256(std::span<const uint8_t> data) { return OneShot(data.data(), data.size()); }
Id Sha256(std::string_view data) { return OneShot(data.data(), data.size()); }

struct Sha256Hasher::Ctx {
  MdCtxPtr md{NewCtx()};
};

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Ctx>()) { MdInit(ctx_->md.get()); }
Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  MdUpdate(ctx_->md.get(), data.data(), data.size());
}
void Sha256Hasher::Update(std::string_view data) {
  MdUpdate(ctx_->md.get(), data.data(), data.size());
}

Id Sha256Hasher::Finish() {
  Id id = MdFinal(ctx_->md.get());
  MdInit(ctx_->md.get());
  return id;
}

}  // namespace stash::crypto
