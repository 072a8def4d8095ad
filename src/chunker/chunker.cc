#include "stash/chunker/chunker.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "scan.h"

namespace stash::chunker {
namespace {

Pol ModPol(Pol x, Pol p) {
  const int dp = Deg(p);
  for (int dx = Deg(x); dx >= dp; dx = Deg(x)) x ^= p << (dx - dp);
  return x;
}

Pol AppendByte(Pol hash, uint8_t b, Pol p) { return ModPol((hash << 8) | b, p); }

}  // namespace

Tables::Tables(Pol pol) : pol_(pol), shift_(Deg(pol) - 8) {
  if (!CheckChunkerPolynomial(pol).ok()) {
    // A programming error: callers validate the config's polynomial first.
    std::fprintf(stderr, "stash: chunker tables for invalid polynomial %s\n",
                 PolToHex(pol).c_str());
    std::abort();
  }
  const int k = Deg(pol);
  for (int b = 0; b < 256; ++b) {
    // The fingerprint of b followed by 63 zero bytes: XOR-ing it removes b
    // from the front of a full window.
    Pol h = AppendByte(0, static_cast<uint8_t>(b), pol);
    for (size_t i = 0; i < kWindowSize - 1; ++i) h = AppendByte(h, 0, pol);
    out_[b] = h;
    // b * x^k mod p, plus b * x^k itself so one XOR both clears the 8 bits
    // shifted above the degree and adds their remainder.
    mod_[b] = ModPol(Pol(b) << k, pol) | (Pol(b) << k);
  }
  for (int b = 0; b < 256; ++b) drop_[b] = (out_[b] << 8) ^ mod_[out_[b] >> shift_];
}

std::shared_ptr<const Tables> TablesFor(Pol pol) {
  static std::mutex mu;
  static auto* cache = new std::unordered_map<Pol, std::shared_ptr<const Tables>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*cache)[pol];
  if (!slot) slot = std::make_shared<const Tables>(pol);
  return slot;
}

Chunker::Chunker(std::shared_ptr<const Tables> tables) : tables_(std::move(tables)) {}

size_t Chunker::Next(std::span<const uint8_t> data, bool* cut) {
  const size_t n = data.size();
  const Tables& t = *tables_;
  // Byte index i of `data` makes the chunk count_ + i + 1 bytes long. The
  // first index that may end the chunk makes it kMinSize long; the one that
  // makes it kMaxSize long must end it.
  const size_t first = count_ + 1 >= kMinSize ? 0 : kMinSize - 1 - count_;
  const size_t forced = kMaxSize - 1 - count_;
  const size_t last = std::min(n, forced + 1);

  size_t hit = last;
  if (first < last) {
    size_t pos = first;
    if (pos < kWindowSize) {
      // The windows of the first 64 candidates reach back into earlier calls;
      // hist_ is full here because count_ >= kMinSize - 64.
      uint8_t joined[2 * kWindowSize];
      std::memcpy(joined, hist_.data(), kWindowSize);
      const size_t end = std::min(last, kWindowSize);
      std::memcpy(joined + kWindowSize, data.data(), end);
      const size_t r = internal::ScanScalar(joined, kWindowSize + pos, kWindowSize + end, t);
      if (r < kWindowSize + end) {
        hit = r - kWindowSize;
      } else {
        pos = end;
      }
    }
    if (hit == last && pos < last) hit = internal::FindCut(data.data(), pos, last, t);
  }

  if (hit < last || last == forced + 1) {
    *cut = true;
    count_ = 0;
    return hit < last ? hit + 1 : last;
  }
  *cut = false;
  count_ += n;
  if (n >= kWindowSize) {
    std::memcpy(hist_.data(), data.data() + n - kWindowSize, kWindowSize);
  } else {
    std::memmove(hist_.data(), hist_.data() + n, kWindowSize - n);
    std::memcpy(hist_.data() + kWindowSize - n, data.data(), n);
  }
  return n;
}

}  // namespace stash::chunker
