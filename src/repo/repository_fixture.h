// Test-only: a fixture for repository tests, with a fast key derivation,
// a ManualClock, a seeded Random and an InMemoryBackend that outlives the
// repositories opened on it (Shared()).
//
// Thread-safety: as the backend and clock it holds (thread-safe).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "stash/backend/memory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/repo/repository.h"

namespace stash::repo {

class RepositoryTest : public ::testing::Test {
 public:
  // Pseudo-random bytes (incompressible), the same for the same seed.
  static std::vector<uint8_t> Data(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
      x = x * 1103515245 + 12345;
      b = static_cast<uint8_t>(x >> 16);
    }
    return v;
  }

 protected:
  Options Opts() {
    Options o;
    o.scrypt_n = 1024;
    o.clock = &clock_;
    o.random = &random_;
    o.pack_size = 4 << 20;
    return o;
  }
  // A backend that outlives the repositories opened on it.
  backend::BackendPtr Shared() { return ViewOf(&mem_); }
  // A backend that forwards to `store`, which outlives it.
  static backend::BackendPtr ViewOf(backend::Backend* store) {
    struct View final : backend::Backend {
      backend::Backend* b;
      explicit View(backend::Backend* b) : b(b) {}
      std::string Location() const override { return b->Location(); }
      int Connections() const override { return b->Connections(); }
      Status Create() override { return b->Create(); }
      Status Save(const backend::Handle& h, std::span<const uint8_t> d) override {
        return b->Save(h, d);
      }
      Status Load(const backend::Handle& h, uint64_t o, uint64_t l,
                  std::vector<uint8_t>* out) override {
        return b->Load(h, o, l, out);
      }
      Result<backend::FileInfo> Stat(const backend::Handle& h) override { return b->Stat(h); }
      Status List(backend::FileType t,
                  const std::function<Status(const backend::FileInfo&)>& fn) override {
        return b->List(t, fn);
      }
      Status Remove(const backend::Handle& h) override { return b->Remove(h); }
      bool CreatesAtomically() const override { return b->CreatesAtomically(); }
    };
    return std::make_unique<View>(store);
  }
  ManualClock clock_;
  SeededRandom random_{42};
  backend::InMemoryBackend mem_;
};

}  // namespace stash::repo
