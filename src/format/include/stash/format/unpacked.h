// Framing of "unpacked" files (index, snapshot, lock) inside their sealed box.
//
// A v2 writer stores `0x02 || zstd_frame(json)`; readers must also accept raw
// JSON (first byte `{` or `[`), which is all v1 knows. `config` never carries
// the marker. Compression itself is the repo layer's job.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>

#include "stash/core/result.h"

namespace stash::format {

inline constexpr uint8_t kUnpackedZstdMarker = 0x02;

enum class UnpackedFraming {
  kRawJson,  // the whole plaintext is JSON
  kZstd,     // plaintext[1:] is a zstd frame of the JSON
};

// Classifies a decrypted plaintext by its first byte. Empty input or any
// other first byte is kDataLoss.
Result<UnpackedFraming> ClassifyUnpacked(std::span<const uint8_t> plaintext);

}  // namespace stash::format
