#include "stash/kube/duration.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace stash::kube {

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

Result<Duration> ParseGoDuration(std::string_view text) {
  const std::string orig(text);
  auto bad = [&] { return InvalidError("invalid duration \"" + orig + "\""); };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return Duration(0);
  if (text.empty()) return bad();
  long double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == 0) return bad();
    std::string number(text.substr(0, i));
    if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") return bad();
    text.remove_prefix(i);
    size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.')
      ++u;
    std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    long double scale;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1e6;
    else if (unit == "s")
      scale = 1e9;
    else if (unit == "m")
      scale = 60e9;
    else if (unit == "h")
      scale = 3600e9;
    else
      return unit.empty() ? InvalidError("missing unit in duration \"" + orig + "\"")
                          : InvalidError("unknown unit \"" + std::string(unit) +
                                         "\" in duration \"" + orig + "\"");
    total += std::strtold(number.c_str(), nullptr) * scale;
  }
  if (total > 9.2e18L) return bad();
  auto ns = static_cast<int64_t>(std::llround(static_cast<double>(total)));
  return Duration(std::chrono::nanoseconds(negative ? -ns : ns));
}

}  // namespace stash::kube
