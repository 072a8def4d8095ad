// Private to repo: zstd compression as restic uses it (plain frames; the
// decoder accepts any frame restic or libzstd writes, with or without a
// content size or checksum).
//
// Thread-safety: thread-safe; compression and decompression contexts are
// kept per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::repo {

// Compresses `in` at `level` into `out` (replaced). Never fails for valid
// levels.
void ZstdCompress(std::span<const uint8_t> in, int level, std::vector<uint8_t>* out);

// Room ZstdCompressTo needs to never fail for `n` input bytes.
size_t ZstdBound(size_t n);
// Compresses `in` into out[0, cap); returns the frame's size, or 0 when it
// does not fit (the caller then stores `in` raw).
size_t ZstdCompressTo(std::span<const uint8_t> in, int level, uint8_t* out, size_t cap);

// Decompresses into exactly `out` (a blob of known size); kDataLoss naming
// `what` when the data is corrupt or not exactly out.size() bytes.
Status ZstdDecompressTo(std::span<const uint8_t> in, std::span<uint8_t> out, std::string_view what);

// Decompresses one or more frames. `expected` > 0: the exact plaintext size
// (blobs); 0: unknown (unpacked files). `what` names the object in errors.
Result<std::vector<uint8_t>> ZstdDecompress(std::span<const uint8_t> in, size_t expected,
                                            std::string_view what);

}  // namespace stash::repo
