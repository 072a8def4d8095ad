#include "stash/format/unpacked.h"

#include <cstdio>
#include <string>

namespace stash::format {

Result<UnpackedFraming> ClassifyUnpacked(std::span<const uint8_t> plaintext) {
  if (plaintext.empty()) return DataLossError("unpacked file is empty after decryption");
  switch (plaintext[0]) {
    case '{':
    case '[':
      return UnpackedFraming::kRawJson;
    case kUnpackedZstdMarker:
      return UnpackedFraming::kZstd;
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", plaintext[0]);
      return DataLossError(std::string("unpacked file starts with unknown version byte ") + hex +
                           " (expected '{', '[' or 0x02); the file is corrupt or from a newer "
                           "repository format");
    }
  }
}

}  // namespace stash::format
