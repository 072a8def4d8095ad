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

// Decompresses one or more frames. `expected` > 0: the exact plaintext size
// (blobs); 0: unknown (unpacked files). `what` names the object in errors.
Result<std::vector<uint8_t>> ZstdDecompress(std::span<const uint8_t> in, size_t expected,
                                            std::string_view what);

}  // namespace stash::repo
