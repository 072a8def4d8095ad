// Chunker throughput on random data (the worst case: no early cuts from zero
// runs), fed in 1 MiB reads as a file reader does, next to a naive
// byte-at-a-time loop of restic's algorithm.
#include <benchmark/benchmark.h>

#include <vector>

#include "stash/chunker/chunker.h"
#include "stash/core/random.h"

namespace {

using namespace stash;
using namespace stash::chunker;

constexpr Pol kPol = 0x3DA3358B4DC173;

const std::vector<uint8_t>& Data() {
  static const std::vector<uint8_t> data = [] {
    std::vector<uint8_t> d(64 << 20);
    SeededRandom(5).Fill(d);
    return d;
  }();
  return data;
}

void BM_Chunker(benchmark::State& state) {
  const auto& data = Data();
  Chunker c(TablesFor(kPol));
  size_t chunks = 0;
  for (auto _ : state) {
    c.Reset();
    for (size_t off = 0; off < data.size();) {
      const size_t len = std::min<size_t>(state.range(0), data.size() - off);
      std::span<const uint8_t> rest(data.data() + off, len);
      off += len;
      while (!rest.empty()) {
        bool cut;
        const size_t n = c.Next(rest, &cut);
        chunks += cut;
        rest = rest.subspan(n);
      }
    }
  }
  benchmark::DoNotOptimize(chunks);
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Chunker)->Arg(1 << 20)->Arg(64 << 10)->Unit(benchmark::kMillisecond);

// restic's loop as written in Go/C: one fingerprint chain, window ring.
void BM_NaiveRabin(benchmark::State& state) {
  const auto& data = Data();
  const Tables& t = *TablesFor(kPol);
  size_t chunks = 0;
  for (auto _ : state) {
    uint8_t window[64] = {};
    size_t wpos = 0, count = 0;
    uint64_t digest = 0;
    for (uint8_t b : data) {
      ++count;
      if (count < kMinSize - 64) continue;
      const uint8_t out = window[wpos];
      window[wpos] = b;
      wpos = (wpos + 1) & 63;
      digest ^= t.out()[out];
      const uint64_t idx = digest >> t.shift();
      digest = ((digest << 8) | b) ^ t.mod()[idx];
      if (count >= kMinSize && ((digest & kSplitMask) == 0 || count >= kMaxSize)) {
        ++chunks;
        count = 0;
      }
    }
  }
  benchmark::DoNotOptimize(chunks);
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_NaiveRabin)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
