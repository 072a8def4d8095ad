// Throughput of the crypto layer's hot paths: sealing/opening blobs and
// hashing, for 1 MiB (data blobs, packs) and 4 KiB (tree blobs) objects.
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "stash/core/random.h"
#include "stash/crypto/kdf.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"

namespace {

using namespace stash;
using namespace stash::crypto;

void BM_Sha256(benchmark::State& state) {
  std::vector<uint8_t> data(state.range(0));
  SeededRandom(1).Fill(data);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Sha256)->Arg(4 << 10)->Arg(1 << 20);

// Two messages of range(0) bytes per iteration; compare bytes/s with
// BM_Sha256 of the same size (the two-lane target is >= 1.6x).
void BM_Sha256x2(benchmark::State& state) {
  std::vector<uint8_t> a(state.range(0)), b(state.range(0));
  SeededRandom(1).Fill(a);
  SeededRandom(2).Fill(b);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256x2(a, b));
  state.SetBytesProcessed(state.iterations() * (a.size() + b.size()));
}
BENCHMARK(BM_Sha256x2)->Arg(4 << 10)->Arg(1 << 20);

// Speedup of Sha256x2 over two Sha256 calls, timed alternately within each
// iteration so load from other processes hits both sides alike (the separate
// benchmarks above drift apart on a shared machine). Reports counter "x2".
void BM_Sha256x2Speedup(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  std::vector<uint8_t> a(state.range(0)), b(state.range(0));
  SeededRandom(1).Fill(a);
  SeededRandom(2).Fill(b);
  Clock::duration single{}, dual{};
  for (auto _ : state) {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(Sha256(a));
    benchmark::DoNotOptimize(Sha256(b));
    const auto t1 = Clock::now();
    benchmark::DoNotOptimize(Sha256x2(a, b));
    const auto t2 = Clock::now();
    single += t1 - t0;
    dual += t2 - t1;
  }
  state.counters["x2"] = static_cast<double>(single.count()) / static_cast<double>(dual.count());
}
BENCHMARK(BM_Sha256x2Speedup)->Arg(4 << 10)->Arg(1 << 20);

void BM_Seal(benchmark::State& state) {
  SeededRandom rnd(2);
  const Key key = Key::Generate(rnd);
  std::vector<uint8_t> buf(state.range(0) + kSealOverhead);
  rnd.Fill(buf);
  for (auto _ : state) {
    // In place, as the packer does: payload sits 16 bytes into the buffer.
    Seal(key, rnd, std::span<const uint8_t>(buf.data() + kIvSize, state.range(0)), buf.data());
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Seal)->Arg(4 << 10)->Arg(1 << 20);

void BM_Open(benchmark::State& state) {
  SeededRandom rnd(3);
  const Key key = Key::Generate(rnd);
  std::vector<uint8_t> plain(state.range(0));
  rnd.Fill(plain);
  const auto sealed = Seal(key, rnd, plain);
  for (auto _ : state) {
    auto n = Open(key, sealed, plain.data());
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Open)->Arg(4 << 10)->Arg(1 << 20);

void BM_SealAlternatingKeys(benchmark::State& state) {
  // Worst case for the per-thread key cache: every call re-keys.
  SeededRandom rnd(4);
  const Key a = Key::Generate(rnd), b = Key::Generate(rnd);
  std::vector<uint8_t> plain(state.range(0)), out(state.range(0) + kSealOverhead);
  bool flip = false;
  for (auto _ : state) {
    Seal(flip ? a : b, rnd, plain, out.data());
    flip = !flip;
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SealAlternatingKeys)->Arg(4 << 10);

void BM_ScryptDefault(benchmark::State& state) {
  std::vector<uint8_t> salt(64, 7);
  for (auto _ : state) {
    auto k = DeriveUserKey("password", salt, DefaultScryptParams());
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_ScryptDefault)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
