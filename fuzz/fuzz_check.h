// Small helpers shared by the fuzz targets.
//
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace stash::fuzz {

// Aborts (a crash for libFuzzer) with `what` when an invariant does not hold.
inline void Require(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace stash::fuzz
