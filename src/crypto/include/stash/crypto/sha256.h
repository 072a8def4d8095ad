// SHA-256 of blobs, packs and unpacked files (restic ids are SHA-256 digests).
//
// Backed by OpenSSL 3 EVP, which picks SHA-NI / AVX2 code at run time. The
// one-shot Sha256() reuses a thread-local context, so it costs no allocation
// per call.
//
// Thread-safety: Sha256() may be called from any thread. A Sha256Hasher is
// not thread-safe; use one per thread (moving it between threads is fine).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "stash/core/id.h"

namespace stash::crypto {

// The digest of `data` as an Id.
Id Sha256(std::span<const uint8_t> data);
Id Sha256(std::string_view data);

// The digests of two independent messages of any lengths, {Sha256(a),
// Sha256(b)}. On CPUs with the SHA extensions the two are hashed interleaved
// on one core, which is faster than two Sha256() calls (the round
// instruction's latency is hidden); elsewhere it is exactly two Sha256() calls.
// Best when both are of similar size: the longer one's excess is hashed
// single-lane.
std::pair<Id, Id> Sha256x2(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Incremental SHA-256 for data that arrives in pieces (a pack being written,
// a file being streamed). A moved-from hasher may only be destroyed or
// assigned to.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;

  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);
  // Returns the digest of everything passed to Update() since construction or
  // the last Finish(), and starts over.
  Id Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace stash::crypto
