// Small string helpers every layer needs (ASCII case folding of header
// names, kinds and patterns), so each does not carry its own copy.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace stash {

// s with A-Z folded to a-z; other bytes (UTF-8 included) unchanged.
std::string AsciiLower(std::string_view s);

}  // namespace stash
