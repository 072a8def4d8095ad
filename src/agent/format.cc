#include "stash/agent/format.h"

#include <cstdio>

namespace stash::agent {

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
