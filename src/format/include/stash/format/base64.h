// Standard base64 (RFC 4648 §4, with '=' padding), as Go's
// base64.StdEncoding, which encoding/json uses for []byte fields (key salt and
// data, master key parts, extended attribute values, linktarget_raw).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::format {

std::string Base64Encode(std::span<const uint8_t> data);
std::string Base64Encode(std::string_view data);

// Decodes padded standard base64. Like Go, '\r' and '\n' are skipped; any
// other character outside the alphabet, a missing or misplaced '=' or a
// truncated quantum is kInvalid.
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);
// Same, returning the bytes as a std::string (for byte strings kept as text).
Result<std::string> Base64DecodeToString(std::string_view text);

}  // namespace stash::format
