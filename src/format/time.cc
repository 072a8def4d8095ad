#include "stash/format/time.h"

#include <time.h>

#include <chrono>

namespace stash::format {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses exactly n digits at text[*pos].
bool Digits(std::string_view text, size_t* pos, size_t n, int* out) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

bool Before(const Timestamp& a, const Timestamp& b) {
  return a.unix_sec != b.unix_sec ? a.unix_sec < b.unix_sec : a.nsec < b.nsec;
}

size_t FormatRfc3339NanoTo(const Timestamp& t, char* buf) {
  const int64_t offset = t.utc_offset_sec;
  CivilTime c = CivilFromSeconds(t.unix_sec + offset);
  if (c.year < 0 || c.year > 9999) {
    // restic's FixTime: AddDate(±years) keeps month/day/clock, rolling an
    // impossible Feb 29 over to Mar 1.
    const int64_t year = c.year < 0 ? 0 : 9999;
    const int64_t secs = (DaysFromCivil(year, c.month, c.day) * kSecondsPerDay) + c.hour * 3600 +
                         c.minute * 60 + c.second;
    c = CivilFromSeconds(secs);
  }
  char* p = buf;
  const auto put = [&p](int64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += digits;
  };
  put(c.year, 4);
  *p++ = '-';
  put(c.month, 2);
  *p++ = '-';
  put(c.day, 2);
  *p++ = 'T';
  put(c.hour, 2);
  *p++ = ':';
  put(c.minute, 2);
  *p++ = ':';
  put(c.second, 2);
  if (t.nsec != 0) {
    *p++ = '.';
    put(t.nsec % 1000000000, 9);
    while (p[-1] == '0') --p;  // trailing zeros trimmed, as ".999999999"
  }
  if (offset == 0) {
    *p++ = 'Z';
  } else {
    // Go prints whole minutes only, truncating toward zero.
    // Go picks the sign from the truncated minutes, so -30 s prints +00:00.
    const int64_t minutes = (offset < 0 ? -offset : offset) / 60;
    *p++ = offset / 60 < 0 ? '-' : '+';
    put(minutes / 60 % 100, 2);
    *p++ = ':';
    put(minutes % 60, 2);
  }
  return static_cast<size_t>(p - buf);
}

std::string FormatRfc3339Nano(const Timestamp& t) {
  char buf[kMaxRfc3339Size];
  return std::string(buf, FormatRfc3339NanoTo(t, buf));
}

Result<Timestamp> ParseRfc3339(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    return InvalidError("cannot parse time \"" + std::string(text.substr(0, 64)) +
                        "\" as RFC 3339: " + std::string(why));
  };
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &month) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &day) || !Expect(text, &pos, 'T') ||
      !Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &second)) {
    return fail("expected YYYY-MM-DDTHH:MM:SS");
  }
  if (month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || day > DaysInMonth(year, month)) return fail("day out of range");
  if (hour > 23) return fail("hour out of range");
  if (minute > 59) return fail("minute out of range");
  if (second > 59) return fail("second out of range");

  uint32_t nsec = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nsec = nsec * 10 + static_cast<uint32_t>(text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return fail("empty fraction");
    for (size_t d = digits; d < 9; ++d) nsec *= 10;
  }

  int32_t offset = 0;
  if (Expect(text, &pos, 'Z')) {
    offset = 0;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool negative = text[pos] == '-';
    ++pos;
    int oh, om;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &om)) {
      return fail("expected zone ±hh:mm");
    }
    if (oh > 23 || om > 59) return fail("zone offset out of range");
    offset = (oh * 3600 + om * 60) * (negative ? -1 : 1);
  } else {
    return fail("missing zone (Z or ±hh:mm)");
  }
  if (pos != text.size()) return fail("extra text after the zone");

  Timestamp t;
  t.unix_sec = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 +
               second - offset;
  t.nsec = nsec;
  t.utc_offset_sec = offset;
  return t;
}

Timestamp LocalTimestamp(int64_t unix_sec, uint32_t nsec) {
  const time_t tt = static_cast<time_t>(unix_sec);
  struct tm tm {};
  Timestamp t{unix_sec, nsec, 0};
  if (localtime_r(&tt, &tm) != nullptr) t.utc_offset_sec = static_cast<int32_t>(tm.tm_gmtoff);
  return t;
}

Timestamp LocalTimestamp(SystemTime t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  int64_t sec = ns.count() / 1000000000;
  int64_t rem = ns.count() % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    --sec;
  }
  return LocalTimestamp(sec, static_cast<uint32_t>(rem));
}

SystemTime ToSystemTime(const Timestamp& t) {
  return SystemTime{} + std::chrono::duration_cast<SystemTime::duration>(
                            std::chrono::seconds(t.unix_sec) + std::chrono::nanoseconds(t.nsec));
}

CivilTime CivilFromSeconds(int64_t secs) {
  int64_t days = secs / kSecondsPerDay;
  int64_t rem = secs % kSecondsPerDay;
  if (rem < 0) {
    rem += kSecondsPerDay;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  c.days = days;
  return c;
}

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace stash::format
