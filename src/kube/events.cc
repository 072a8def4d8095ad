#include "stash/kube/events.h"

#include <cstdio>
#include <ctime>

namespace stash::kube {

std::string FormatTime(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<SystemTime> ParseTime(std::string_view s) {
  std::tm tm{};
  int consumed = 0;
  std::string str(s);
  if (sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return InvalidError("\"" + str + "\" is not an RFC 3339 time");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  SystemTime t = std::chrono::system_clock::from_time_t(timegm(&tm));
  std::string_view rest = s.substr(consumed);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds
    size_t i = 1;
    long long frac = 0;
    int digits = 0;
    while (i < rest.size() && isdigit(uint8_t(rest[i]))) {
      if (digits < 9) {
        frac = frac * 10 + (rest[i] - '0');
        ++digits;
      }
      ++i;
    }
    while (digits++ < 9) frac *= 10;
    t += std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(frac));
    rest = rest.substr(i);
  }
  auto digits2 = [](std::string_view d) {
    return d.size() == 2 && isdigit(uint8_t(d[0])) && isdigit(uint8_t(d[1]));
  };
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-') && rest.size() >= 6 &&
      digits2(rest.substr(1, 2)) && digits2(rest.substr(4, 2))) {
    int hh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int mm = (rest[4] - '0') * 10 + (rest[5] - '0');
    auto off = std::chrono::hours(hh) + std::chrono::minutes(mm);
    t += rest[0] == '+' ? -off : off;
  }
  return t;
}

}  // namespace stash::kube
