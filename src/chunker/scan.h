// Private: the fingerprint scans behind Chunker::Next, exposed to the layer's
// tests and benchmark.
//
// Both find the first index i in [first, last) of a buffer `p` where the
// Rabin fingerprint of p[i-63 .. i] has (fingerprint & kSplitMask) == 0, and
// return `last` when there is none. They require p[first - 64] to be valid
// (the window of every candidate lies inside the buffer).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "stash/chunker/chunker.h"

namespace stash::chunker::internal {

// Byte-at-a-time reference: restic's loop, one fingerprint chain.
size_t ScanScalar(const uint8_t* p, size_t first, size_t last, const Tables& t);

// The fast path: several independent fingerprint chains interleaved over
// consecutive blocks (possible because a fingerprint depends only on its 64
// bytes), falling back to ScanScalar inside a block that contains a cut and
// for a short tail. Same answers as ScanScalar.
size_t FindCut(const uint8_t* p, size_t first, size_t last, const Tables& t);

}  // namespace stash::chunker::internal
