// Random: the injected source of randomness.
//
// Cryptographic material (IVs, salts, keys, repository ids) must come from
// SystemRandom; tests use SeededRandom for reproducible ids and jitter.
//
// Thread-safety: SystemRandom is thread-safe; SeededRandom is internally
// locked so it may be shared too (its sequence then depends on interleaving).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>

namespace stash {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;
  uint64_t Next64();
  // Uniform in [0, bound); bound must be > 0.
  uint64_t Uniform(uint64_t bound);
};

// getrandom(2): the kernel CSPRNG.
class SystemRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic xoshiro256** generator for tests. Not for key material.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  void Fill(std::span<uint8_t> out) override;

 private:
  uint64_t NextLocked();
  std::mutex mu_;
  uint64_t s_[4];
};

}  // namespace stash
