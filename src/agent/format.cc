#include "stash/agent/format.h"

#include <cstdio>

namespace stash::agent {

std::string FormatBytes(uint64_t b) {
  char buf[32];
  const double kib = 1024, mib = kib * 1024, gib = mib * 1024, tib = gib * 1024;
  if (b > tib)
    snprintf(buf, sizeof buf, "%.3f TiB", b / tib);
  else if (b > gib)
    snprintf(buf, sizeof buf, "%.3f GiB", b / gib);
  else if (b > mib)
    snprintf(buf, sizeof buf, "%.3f MiB", b / mib);
  else if (b > kib)
    snprintf(buf, sizeof buf, "%.3f KiB", b / kib);
  else
    snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

std::string FormatProcessingTime(double seconds) {
  long s = long(seconds);
  char buf[32];
  if (s >= 3600)
    snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace stash::agent
