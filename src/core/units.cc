#include "stash/core/units.h"

#include <cstdio>

namespace stash {

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"TiB", "GiB", "MiB", "KiB"};
  char buf[64];
  for (int i = 0; i < 4; ++i) {
    const uint64_t unit = 1ull << (10 * (4 - i));
    // restic's boundaries: exactly 1024 bytes still prints as bytes.
    if (bytes > unit) {
      std::snprintf(buf, sizeof buf, "%.3f %s",
                    static_cast<double>(bytes) / static_cast<double>(unit), kUnits[i]);
      return buf;
    }
  }
  std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

}  // namespace stash
