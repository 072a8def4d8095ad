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

std::string FormatGoDuration(Duration d, Duration unit) {
  int64_t u = unit.count();
  int64_t ns = (d.count() + u / 2) / u * u;  // round half up, as time.Duration.Round
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  if (ns < 1000000000) {  // sub-second: Go prints ms/µs/ns
    char buf[32];
    if (ns % 1000000 == 0)
      snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ns / 1000000));
    else
      snprintf(buf, sizeof buf, "%.6gms", ns / 1e6);
    return out + buf;
  }
  int64_t h = ns / 3600000000000LL;
  ns %= 3600000000000LL;
  int64_t m = ns / 60000000000LL;
  ns %= 60000000000LL;
  char buf[64];
  std::string secs;
  if (ns % 1000000000 == 0) {
    snprintf(buf, sizeof buf, "%llds", static_cast<long long>(ns / 1000000000));
    secs = buf;
  } else {
    snprintf(buf, sizeof buf, "%.9f", ns / 1e9);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    secs = s + "s";
  }
  if (h > 0)
    out += std::to_string(h) + "h" + std::to_string(m) + "m";
  else if (m > 0)
    out += std::to_string(m) + "m";
  return out + secs;
}

}  // namespace stash::agent
