#include "stash/engine/policy.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <map>

#include "stash/format/gojson.h"
#include "stash/format/time.h"

namespace stash::engine {

namespace {

// Calendar fields come from format's civil-date arithmetic, so
// bucket values do not depend on the process's time zone database: Go
// computes the calendar fields of a decoded snapshot time in its recorded offset.
using format::DaysFromCivil;

using Civil = format::CivilTime;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil ToCivil(const format::Timestamp& t) {
  return format::CivilFromSeconds(t.unix_sec + t.utc_offset_sec);
}

// Go's Time.ISOWeek: the week (Monday first) that holds the date's Thursday.
int64_t IsoYearWeek(const Civil& c) {
  const int64_t weekday = ((c.days % 7) + 7 + 3) % 7;  // Monday = 0 (1970-01-01 was Thursday)
  const int64_t thursday = c.days - weekday + 3;
  format::Timestamp t{thursday * 86400, 0, 0};
  const Civil th = ToCivil(t);
  const int64_t yday = thursday - DaysFromCivil(th.year, 1, 1);
  return th.year * 100 + yday / 7 + 1;
}

// Go's t.AddDate(-y, -m, -d).Add(-h hours) in t's own (fixed) offset.
format::Timestamp SubtractDuration(const format::Timestamp& t, const KeepDuration& d) {
  const Civil c = ToCivil(t);
  int64_t year = c.year - d.years;
  int64_t month0 = c.month - 1 - d.months;
  year += FloorDiv(month0, 12);
  month0 -= FloorDiv(month0, 12) * 12;
  const int64_t days = DaysFromCivil(year, month0 + 1, 1) + (c.day - d.days) - 1;
  format::Timestamp out = t;
  out.unix_sec = days * 86400 + c.hour * 3600 + c.minute * 60 + c.second - t.utc_offset_sec -
                 int64_t{d.hours} * 3600;
  return out;
}

bool After(const format::Timestamp& a, const format::Timestamp& b) { return format::Before(b, a); }

enum class Bucket { kAlways, kHour, kDay, kWeek, kMonth, kYear };

int64_t BucketValue(Bucket b, const format::Timestamp& t, size_t nr) {
  if (b == Bucket::kAlways) return static_cast<int64_t>(nr);
  const Civil c = ToCivil(t);
  switch (b) {
    case Bucket::kHour:
      return c.year * 1000000 + c.month * 10000 + c.day * 100 + c.hour;
    case Bucket::kDay:
      return c.year * 10000 + c.month * 100 + c.day;
    case Bucket::kWeek:
      return IsoYearWeek(c);
    case Bucket::kMonth:
      return c.year * 100 + c.month;
    default:
      return c.year;
  }
}

bool HasTags(const format::Snapshot& sn, const std::vector<std::string>& list) {
  for (const std::string& tag : list) {
    if (tag.empty() && sn.tags.empty()) return true;
    if (std::find(sn.tags.begin(), sn.tags.end(), tag) == sn.tags.end()) return false;
  }
  return true;
}

// Go's fmt of a restic.TagList: "[a, b]".
std::string TagListString(const std::vector<std::string>& list) {
  std::string s = "[";
  for (size_t i = 0; i < list.size(); ++i) s += (i ? ", " : "") + list[i];
  return s + "]";
}

}  // namespace

std::string KeepDuration::ToString() const {
  std::string s;
  if (years != 0) s += std::to_string(years) + "y";
  if (months != 0) s += std::to_string(months) + "m";
  if (days != 0) s += std::to_string(days) + "d";
  if (hours != 0) s += std::to_string(hours) + "h";
  return s;
}

Result<KeepDuration> ParseKeepDuration(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  KeepDuration d;
  while (!text.empty()) {
    bool negative = false;
    if (text.front() == '-') {
      negative = true;
      text.remove_prefix(1);
    }
    size_t n = 0;
    while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
    if (n == 0)
      return InvalidError("invalid duration \"" + std::string(text) + "\": no number found");
    if (n > 9)
      return InvalidError("invalid duration: number " + std::string(text.substr(0, n)) +
                          " is too large");
    int num = std::stoi(std::string(text.substr(0, n)));
    if (negative) num = -num;
    text.remove_prefix(n);
    if (text.empty()) return InvalidError("no unit found after number " + std::to_string(num));
    switch (text.front()) {
      case 'y':
        d.years = num;
        break;
      case 'm':
        d.months = num;
        break;
      case 'd':
        d.days = num;
        break;
      case 'h':
        d.hours = num;
        break;
      default:
        return InvalidError(std::string("invalid unit '") + text.front() + "' found after number " +
                            std::to_string(num) + " (use y, m, d or h, e.g. 1y6m)");
    }
    text.remove_prefix(1);
  }
  return d;
}

bool ExpirePolicy::Empty() const {
  return tags.empty() && last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 &&
         yearly == 0 && within.Zero() && within_hourly.Zero() && within_daily.Zero() &&
         within_weekly.Zero() && within_monthly.Zero() && within_yearly.Zero();
}

std::string ExpirePolicy::ToString() const {
  std::vector<std::string> keeps, keepw;
  auto count = [&](int n, const char* what) {
    if (n > 0) keeps.push_back(std::to_string(n) + " " + what);
  };
  count(last, "latest");
  count(hourly, "hourly");
  count(daily, "daily");
  count(weekly, "weekly");
  count(monthly, "monthly");
  count(yearly, "yearly");
  auto within_of = [&](const KeepDuration& d, const char* what) {
    if (!d.Zero()) keepw.push_back(std::string(what) + " snapshots within " + d.ToString());
  };
  within_of(within_hourly, "hourly");
  within_of(within_daily, "daily");
  within_of(within_weekly, "weekly");
  within_of(within_monthly, "monthly");
  within_of(within_yearly, "yearly");
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  std::string s;
  if (!keeps.empty()) s = join(keeps) + " snapshots";
  if (!keepw.empty()) s += (s.empty() ? "" : ", ") + join(keepw);
  if (!tags.empty()) {
    std::string lists = "[";
    for (size_t i = 0; i < tags.size(); ++i) lists += (i ? " " : "") + TagListString(tags[i]);
    s += (s.empty() ? "" : " and ") + std::string("all snapshots with tags ") + lists + "]";
  }
  if (!within.Zero()) {
    s += (s.empty() ? "" : " and ") + std::string("all snapshots within ") + within.ToString() +
         " of the newest";
  }
  return "keep " + s;
}

PolicyResult ApplyPolicy(std::vector<SnapshotEntry> list, const ExpirePolicy& p, SystemTime now) {
  std::stable_sort(list.begin(), list.end(), [](const SnapshotEntry& a, const SnapshotEntry& b) {
    return After(a.snapshot.time, b.snapshot.time);
  });
  PolicyResult r;
  if (p.Empty()) {
    for (const SnapshotEntry& e : list) r.reasons.push_back({e, {"policy is empty"}, {}});
    r.keep = std::move(list);
    return r;
  }
  if (list.empty()) return r;

  struct Counted {
    int count;
    Bucket bucket;
    int64_t last;
    const char* reason;
  };
  Counted buckets[6] = {{p.last, Bucket::kAlways, -1, "last snapshot"},
                        {p.hourly, Bucket::kHour, -1, "hourly snapshot"},
                        {p.daily, Bucket::kDay, -1, "daily snapshot"},
                        {p.weekly, Bucket::kWeek, -1, "weekly snapshot"},
                        {p.monthly, Bucket::kMonth, -1, "monthly snapshot"},
                        {p.yearly, Bucket::kYear, -1, "yearly snapshot"}};
  struct Within {
    KeepDuration within;
    Bucket bucket;
    int64_t last;
    const char* reason;
  };
  Within within[5] = {{p.within_hourly, Bucket::kHour, -1, "hourly within"},
                      {p.within_daily, Bucket::kDay, -1, "daily within"},
                      {p.within_weekly, Bucket::kWeek, -1, "weekly within"},
                      {p.within_monthly, Bucket::kMonth, -1, "monthly within"},
                      {p.within_yearly, Bucket::kYear, -1, "yearly within"}};

  // The newest snapshot not in the future; Go's zero time when there is none.
  format::Timestamp latest{-62135596800, 0, 0};
  const format::Timestamp now_ts = format::LocalTimestamp(now);
  for (const SnapshotEntry& e : list) {
    if (After(e.snapshot.time, latest) && format::Before(e.snapshot.time, now_ts)) {
      latest = e.snapshot.time;
    }
  }

  for (size_t nr = 0; nr < list.size(); ++nr) {
    const SnapshotEntry& cur = list[nr];
    const format::Timestamp& t = cur.snapshot.time;
    std::vector<std::string> matches;
    for (const auto& l : p.tags) {
      if (HasTags(cur.snapshot, l)) matches.push_back("has tags " + TagListString(l));
    }
    if (!p.within.Zero() && After(t, SubtractDuration(latest, p.within))) {
      matches.push_back("within " + p.within.ToString());
    }
    for (Counted& b : buckets) {
      if (b.count <= 0) continue;
      const int64_t val = BucketValue(b.bucket, t, nr);
      if (val != b.last) {
        b.last = val;
        --b.count;
        matches.push_back(b.reason);
      }
    }
    for (Within& b : within) {
      if (b.within.Zero() || !After(t, SubtractDuration(latest, b.within))) continue;
      const int64_t val = BucketValue(b.bucket, t, nr);
      if (val != b.last) {
        b.last = val;
        matches.push_back(std::string(b.reason) + " " + b.within.ToString());
      }
    }
    if (matches.empty()) {
      r.remove.push_back(cur);
      continue;
    }
    KeepCounters c{buckets[0].count, buckets[1].count, buckets[2].count,
                   buckets[3].count, buckets[4].count, buckets[5].count};
    r.keep.push_back(cur);
    r.reasons.push_back({cur, std::move(matches), c});
  }
  return r;
}

Result<GroupBy> ParseGroupBy(std::string_view text) {
  GroupBy by;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view opt = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (opt == "host" || opt == "hosts") {
      by.host = true;
    } else if (opt == "path" || opt == "paths") {
      by.paths = true;
    } else if (opt == "tag" || opt == "tags") {
      by.tags = true;
    } else if (!opt.empty()) {
      return InvalidError("unknown grouping option: '" + std::string(opt) +
                          "' (use host, paths and/or tags, or '' for no grouping)");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return by;
}

std::vector<SnapshotGroup> GroupSnapshots(std::vector<SnapshotEntry> list, const GroupBy& by) {
  std::map<std::string, SnapshotGroup> groups;
  for (SnapshotEntry& e : list) {
    format::Snapshot& sn = e.snapshot;
    std::sort(sn.paths.begin(), sn.paths.end());
    if (by.tags) std::sort(sn.tags.begin(), sn.tags.end());
    SnapshotGroup g;
    if (by.host) g.hostname = sn.hostname;
    if (by.paths) {
      g.paths = sn.paths;
      g.has_paths = !sn.paths.empty();
    }
    if (by.tags) {
      g.tags = sn.tags;
      g.has_tags = !sn.tags.empty();
    }
    format::GoJsonWriter w;
    w.BeginObject();
    w.Key("hostname");
    w.String(g.hostname);
    auto list_or_null = [&w](const char* key, bool present, const std::vector<std::string>& v) {
      w.Key(key);
      if (!present) return w.Null();
      w.BeginArray();
      for (const std::string& s : v) w.String(s);
      w.EndArray();
    };
    list_or_null("paths", g.has_paths, g.paths);
    list_or_null("tags", g.has_tags, g.tags);
    w.EndObject();
    g.key_json = w.Take();
    auto [it, inserted] = groups.try_emplace(g.key_json, std::move(g));
    it->second.snapshots.push_back(std::move(e));
  }
  std::vector<SnapshotGroup> out;
  out.reserve(groups.size());
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

}  // namespace stash::engine
