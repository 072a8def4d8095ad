// Timestamp: a point in time with the UTC offset it was recorded in, and its
// RFC 3339 form as Go's time.Time.MarshalJSON writes it (RFC3339Nano).
//
// restic writes local times ("2001-02-03T04:05:06.5+01:00"); keeping the
// offset lets a decoded tree re-encode to the same bytes, hence the same id.
//
// Thread-safety: plain values and pure functions (LocalTimestamp reads the
// process's TZ through localtime_r, which is thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::format {

struct Timestamp {
  int64_t unix_sec = 0;        // seconds since 1970-01-01T00:00:00Z
  uint32_t nsec = 0;           // 0..999999999
  int32_t utc_offset_sec = 0;  // local offset east of UTC

  // Same instant (the offset does not matter), as Go's Time.Equal.
  bool SameInstant(const Timestamp& o) const { return unix_sec == o.unix_sec && nsec == o.nsec; }
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// Orders by instant.
bool Before(const Timestamp& a, const Timestamp& b);

// "YYYY-MM-DDTHH:MM:SS[.fffffffff](Z|±hh:mm)": fraction with trailing zeros
// trimmed (no dot when zero), "Z" when the offset is 0. Years outside 0..9999
// are clamped into that range first, as restic's FixTime does before
// marshalling nodes (Go's MarshalJSON would fail on them).
std::string FormatRfc3339Nano(const Timestamp& t);
// The same text written into buf (at least kMaxRfc3339Size bytes, no NUL);
// returns its length. For hot encoders that should not allocate.
inline constexpr size_t kMaxRfc3339Size = 35;  // 9999-12-31T23:59:59.999999999+23:59
size_t FormatRfc3339NanoTo(const Timestamp& t, char* buf);

// Parses RFC 3339 as Go's time.Time.UnmarshalJSON (without the quotes):
// an optional fraction of any length (digits past nanoseconds are dropped),
// "Z" or ±hh:mm. Out-of-range fields are kInvalid.
Result<Timestamp> ParseRfc3339(std::string_view text);

// The instant in the process's local time zone (TZ), as restic records file
// times and snapshot times.
Timestamp LocalTimestamp(int64_t unix_sec, uint32_t nsec);
Timestamp LocalTimestamp(SystemTime t);
// The instant as a system_clock time point (offset dropped).
SystemTime ToSystemTime(const Timestamp& t);

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// algorithm), independent of any time zone database. Days past the month's
// end roll over, like Go's time.Date.
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);

// The calendar fields of a count of seconds since 1970-01-01 00:00 (already
// shifted into the wanted offset): the inverse of DaysFromCivil plus the
// time of day.
struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second;
  int64_t days;  // days since 1970-01-01, floored
};
CivilTime CivilFromSeconds(int64_t secs);

}  // namespace stash::format
