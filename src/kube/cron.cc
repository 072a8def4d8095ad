#include "stash/kube/cron.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <vector>

#include "stash/kube/duration.h"

namespace stash::kube {

namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // index = value - min offset (see NameValue)
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",  "JUL",
                                       "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char* kDowNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::vector<std::string> Fields(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (isspace(uint8_t(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Result<int> Value(const std::string& tok, const FieldSpec& f) {
  if (tok.empty()) return InvalidError(std::string(f.name) + ": empty value");
  if (f.names && isalpha(uint8_t(tok[0]))) {
    std::string up = tok;
    std::transform(up.begin(), up.end(), up.begin(), [](char c) { return char(toupper(c)); });
    for (int i = 0; f.names[i]; ++i) {
      if (up == f.names[i]) return f.min == 1 ? i + 1 : i;
    }
    return InvalidError(std::string(f.name) + ": unknown name \"" + tok + "\"");
  }
  int v = 0;
  for (char c : tok) {
    if (!isdigit(uint8_t(c)) || v > 1000) {
      return InvalidError(std::string(f.name) + ": \"" + tok + "\" is not a number");
    }
    v = v * 10 + (c - '0');
  }
  int max = f.max;
  if (f.names == kDowNames) max = 7;  // 7 is Sunday too
  if (v < f.min || v > max) {
    return InvalidError(std::string(f.name) + ": value " + tok + " out of range " +
                        std::to_string(f.min) + "-" + std::to_string(f.max));
  }
  return v;
}

// Parses one field into `bits`; sets *star when it starts with '*' or '?'.
template <size_t N>
Status ParseField(const std::string& field, const FieldSpec& f, std::bitset<N>* bits, bool* star) {
  *star = !field.empty() && (field[0] == '*' || field[0] == '?');
  for (const std::string& part : Split(field, ',')) {
    std::vector<std::string> range_step = Split(part, '/');
    if (range_step.size() > 2)
      return InvalidError(std::string(f.name) + ": bad step in \"" + part + "\"");
    int lo, hi, step = 1;
    const std::string& range = range_step[0];
    if (range == "*" || range == "?") {
      lo = f.min;
      hi = f.max;
    } else {
      std::vector<std::string> ends = Split(range, '-');
      if (ends.size() > 2)
        return InvalidError(std::string(f.name) + ": bad range \"" + range + "\"");
      STASH_ASSIGN_OR_RETURN(lo, Value(ends[0], f));
      hi = lo;
      if (ends.size() == 2) {
        STASH_ASSIGN_OR_RETURN(hi, Value(ends[1], f));
      } else if (range_step.size() == 2) {
        hi = f.max;  // "N/step" runs from N to the end
      }
      if (hi < lo) {
        return InvalidError(std::string(f.name) + ": range \"" + range +
                            "\" ends before it starts");
      }
    }
    if (range_step.size() == 2) {
      auto s = Value(range_step[1], FieldSpec{f.name, 1, 1000, nullptr});
      if (!s.ok())
        return InvalidError(std::string(f.name) + ": bad step \"" + range_step[1] + "\"");
      step = *s;
    }
    for (int v = lo; v <= hi; v += step) bits->set(size_t(v == 7 && f.names == kDowNames ? 0 : v));
  }
  return Status::Ok();
}

}  // namespace

Result<Schedule> ParseCron(std::string_view spec_in) {
  std::string spec(spec_in);
  auto fail = [&](const Status& s) {
    return InvalidError("Invalid value: \"" + std::string(spec_in) +
                        "\": Invalid schedule: " + s.message());
  };
  std::vector<std::string> fields = Fields(spec);
  if (!fields.empty() && (fields[0].rfind("CRON_TZ=", 0) == 0 || fields[0].rfind("TZ=", 0) == 0)) {
    std::string tz = fields[0].substr(fields[0].find('=') + 1);
    if (tz != "UTC" && tz != "Etc/UTC") {
      return fail(UnsupportedError("time zone " + tz + " is not supported; only UTC is"));
    }
    fields.erase(fields.begin());
  }
  Schedule s;
  if (!fields.empty() && fields[0][0] == '@') {
    std::string d = fields[0];
    const char* expand = nullptr;
    if (d == "@yearly" || d == "@annually")
      expand = "0 0 1 1 *";
    else if (d == "@monthly")
      expand = "0 0 1 * *";
    else if (d == "@weekly")
      expand = "0 0 * * 0";
    else if (d == "@daily" || d == "@midnight")
      expand = "0 0 * * *";
    else if (d == "@hourly")
      expand = "0 * * * *";
    else if (d == "@every") {
      if (fields.size() != 2)
        return fail(InvalidError("@every needs one duration, e.g. \"@every 5m\""));
      auto dur = ParseGoDuration(fields[1]);
      if (!dur.ok()) return fail(dur.status());
      if (*dur < std::chrono::seconds(1))
        return fail(InvalidError("@every duration must be at least 1s"));
      s.every_ = *dur;
      return s;
    } else {
      return fail(InvalidError("unknown descriptor " + d));
    }
    if (fields.size() != 1) return fail(InvalidError(d + " takes no other fields"));
    fields = Fields(expand);
  }
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  if (fields.size() != 6) {
    return fail(
        InvalidError("expected 5 fields (minute hour day-of-month month day-of-week), found " +
                     std::to_string(fields.size())));
  }
  bool star;
  Status st = ParseField(fields[0], {"second", 0, 59, nullptr}, &s.second_, &star);
  if (st.ok()) st = ParseField(fields[1], {"minute", 0, 59, nullptr}, &s.minute_, &star);
  if (st.ok()) st = ParseField(fields[2], {"hour", 0, 23, nullptr}, &s.hour_, &star);
  if (st.ok()) st = ParseField(fields[3], {"day-of-month", 1, 31, nullptr}, &s.dom_, &s.dom_star_);
  if (st.ok()) st = ParseField(fields[4], {"month", 1, 12, kMonthNames}, &s.month_, &star);
  if (st.ok()) st = ParseField(fields[5], {"day-of-week", 0, 6, kDowNames}, &s.dow_, &s.dow_star_);
  if (!st.ok()) return fail(st);
  return s;
}

SystemTime Schedule::Next(SystemTime after) const {
  using std::chrono::seconds;
  if (every_.count() > 0) {
    auto t = std::chrono::time_point_cast<seconds>(after + every_);
    return t;
  }
  std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<seconds>(after)) + 1;
  // Bounded: any valid schedule fires within 5 years (Feb 29 + weekday combos within 28).
  for (int iter = 0; iter < 200000; ++iter) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (!month_[size_t(tm.tm_mon + 1)]) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    bool dom_ok = dom_[size_t(tm.tm_mday)];
    bool dow_ok = dow_[size_t(tm.tm_wday)];
    bool day_ok = (dom_star_ || dow_star_) ? (dom_ok && dow_ok) : (dom_ok || dow_ok);
    if (!day_ok) {
      tm.tm_mday += 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!hour_[size_t(tm.tm_hour)]) {
      tm.tm_hour += 1;
      tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!minute_[size_t(tm.tm_min)]) {
      tm.tm_min += 1;
      tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!second_[size_t(tm.tm_sec)]) {
      t += 1;
      continue;
    }
    return std::chrono::system_clock::from_time_t(t);
  }
  return SystemTime::max();  // e.g. "0 0 30 2 *": never fires
}

}  // namespace stash::kube
