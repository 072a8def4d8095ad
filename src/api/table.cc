// Table building, CRD printer columns, HumanDuration and RFC 3339 timestamps.
#include "stash/api/table.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace stash::api {
namespace {

using json = nlohmann::json;

constexpr std::string_view kNameDescription =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::string Format(SystemTime t, bool micro) {
  auto since = t.time_since_epoch();
  int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(since).count();
  int64_t secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  int64_t frac = micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[64];
  if (micro) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(frac));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  }
  return buf;
}

// One step of a simple JSONPath: a member name or an array index.
// One step of a JSONPath as CRD printer columns use them: a member, an index,
// every element ([*]) or a filter ([?(@.type=="Ready")]).
struct Step {
  enum Kind { kMember, kIndex, kAll, kFilter } kind = kMember;
  std::string name;
  int64_t index = -1;
  // kFilter: the element's member path, the operator and the literal.
  std::vector<std::string> filter_path;
  bool filter_equals = true;
  std::optional<json> filter_value;  // nullopt: an existence test
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Parses the inside of "[?(...)]": "@.a.b == 'x'", "@.n!=3" or "@.a".
bool ParseFilter(std::string_view expr, Step& step) {
  step.kind = Step::kFilter;
  expr = Trim(expr);
  size_t op = expr.find("==");
  if (op == std::string_view::npos) {
    op = expr.find("!=");
    step.filter_equals = op == std::string_view::npos;
  }
  std::string_view lhs = Trim(expr.substr(0, op));
  if (lhs.empty() || lhs.front() != '@') return false;
  lhs.remove_prefix(1);
  while (!lhs.empty()) {
    if (lhs.front() != '.') return false;
    lhs.remove_prefix(1);
    size_t end = lhs.find('.');
    step.filter_path.emplace_back(lhs.substr(0, end));
    if (step.filter_path.back().empty()) return false;
    lhs = end == std::string_view::npos ? std::string_view() : lhs.substr(end);
  }
  if (op == std::string_view::npos) return true;
  std::string_view rhs = Trim(expr.substr(op + 2));
  if (rhs.size() >= 2 && (rhs.front() == '\'' || rhs.front() == '"') && rhs.back() == rhs.front()) {
    step.filter_value = json(std::string(rhs.substr(1, rhs.size() - 2)));
    return true;
  }
  json literal = json::parse(rhs, nullptr, /*allow_exceptions=*/false);
  if (literal.is_discarded()) return false;
  step.filter_value = std::move(literal);
  return true;
}

bool ParseSteps(std::string_view path, std::vector<Step>& steps) {
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') {
    path = path.substr(1, path.size() - 2);
  }
  size_t i = 0;
  if (i < path.size() && path[i] == '$') ++i;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = ++i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i) return false;
      Step step;
      step.name = std::string(path.substr(i, j - i));
      steps.push_back(std::move(step));
      i = j;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return false;
      std::string_view inner = path.substr(i + 1, close - i - 1);
      Step step;
      if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') &&
          inner.back() == inner.front()) {
        step.name = std::string(inner.substr(1, inner.size() - 2));
      } else if (inner == "*") {
        step.kind = Step::kAll;
      } else if (inner.size() >= 3 && inner.substr(0, 2) == "?(" && inner.back() == ')') {
        if (!ParseFilter(inner.substr(2, inner.size() - 3), step)) return false;
      } else {
        auto [p, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), step.index);
        if (ec != std::errc() || p != inner.data() + inner.size() || step.index < 0) return false;
        step.kind = Step::kIndex;
      }
      steps.push_back(std::move(step));
      i = close + 1;
    } else {
      return false;
    }
  }
  return true;
}

bool FilterMatches(const Step& step, const json& element) {
  const json* cur = &element;
  for (const std::string& name : step.filter_path) {
    if (!cur->is_object() || !cur->contains(name)) return false;
    cur = &(*cur)[name];
  }
  if (!step.filter_value) return true;
  return (*cur == *step.filter_value) == step.filter_equals;
}

// The first value the steps from `i` on reach: as kube-apiserver's printer,
// a column shows only the first result of [*] and filters.
const json* Walk(const json& cur, const std::vector<Step>& steps, size_t i) {
  if (i == steps.size()) return &cur;
  const Step& step = steps[i];
  switch (step.kind) {
    case Step::kMember: {
      if (!cur.is_object()) return nullptr;
      auto it = cur.find(step.name);
      return it == cur.end() ? nullptr : Walk(*it, steps, i + 1);
    }
    case Step::kIndex:
      if (!cur.is_array() || static_cast<size_t>(step.index) >= cur.size()) return nullptr;
      return Walk(cur[static_cast<size_t>(step.index)], steps, i + 1);
    case Step::kAll:
    case Step::kFilter:
      if (!cur.is_array()) return nullptr;
      for (const json& element : cur) {
        if (step.kind == Step::kFilter && !FilterMatches(step, element)) continue;
        if (const json* found = Walk(element, steps, i + 1)) return found;
      }
      return nullptr;
  }
  return nullptr;
}

json PartialObjectMetadata(const json& object) {
  json out = json::object();
  out["kind"] = "PartialObjectMetadata";
  out["apiVersion"] = "meta.k8s.io/v1";
  auto meta = object.is_object() ? object.find("metadata") : object.end();
  out["metadata"] = meta != object.end() ? *meta : json::object();
  return out;
}

// The cell of a CRD-style (JSONPath) column, as apiextensions' table
// convertor computes it.
json PathCell(const PrinterColumn& column, const std::optional<std::vector<Step>>& steps,
              const json& object, SystemTime now) {
  const json* found = steps ? Walk(object, *steps, 0) : nullptr;
  if (found == nullptr || found->is_null()) return nullptr;
  const json& v = *found;
  if (column.type == "string") return v.is_string() ? v : json(v.dump());
  if (column.type == "integer") {
    if (v.is_number_integer()) return v;
    if (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>()) {
      return static_cast<int64_t>(v.get<double>());
    }
    return nullptr;
  }
  if (column.type == "number") return v.is_number() ? v : json();
  if (column.type == "boolean") return v.is_boolean() ? v : json();
  if (column.type == "date") {
    if (!v.is_string()) return nullptr;
    Result<SystemTime> t = ParseTimestamp(v.get<std::string>());
    if (!t.ok()) return "<invalid>";
    return HumanDuration(now - *t);
  }
  return nullptr;
}

json ColumnDefinition(const PrinterColumn& c) {
  return {{"name", c.name},
          {"type", c.type},
          {"format", c.format},
          {"description", c.description},
          {"priority", c.priority}};
}

}  // namespace

std::string HumanDuration(Duration d) {
  const int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    const int64_t s = seconds % 60;
    return std::to_string(minutes) + "m" + (s == 0 ? "" : std::to_string(s) + "s");
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  const int64_t hours = minutes / 60;
  if (hours < 8) {
    const int64_t m = minutes % 60;
    return std::to_string(hours) + "h" + (m == 0 ? "" : std::to_string(m) + "m");
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    const int64_t h = hours % 24;
    return std::to_string(hours / 24) + "d" + (h == 0 ? "" : std::to_string(h) + "h");
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const int64_t dy = hours / 24 % 365;
    return std::to_string(hours / 24 / 365) + "y" + (dy == 0 ? "" : std::to_string(dy) + "d");
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::string TranslateTimestampSince(std::string_view rfc3339, SystemTime now) {
  if (rfc3339.empty()) return "<unknown>";
  Result<SystemTime> t = ParseTimestamp(rfc3339);
  if (!t.ok()) return "<unknown>";
  return HumanDuration(now - *t);
}

Result<SystemTime> ParseTimestamp(std::string_view s) {
  int year, month, day, hour, minute, second;
  auto bad = [&] {
    std::string message(1, '"');
    message.append(s);
    message += "\" is not an RFC 3339 timestamp (want e.g. 2026-11-26T06:17:00Z)";
    return InvalidError(std::move(message));
  };
  if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    int64_t scale = 100000000;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return bad();
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, om)) {
      return bad();
    }
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  int64_t secs =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

std::string FormatTimestamp(SystemTime t) { return Format(t, false); }
std::string FormatMicroTimestamp(SystemTime t) { return Format(t, true); }

std::optional<nlohmann::json> EvalSimpleJsonPath(const nlohmann::json& object,
                                                 std::string_view path) {
  std::vector<Step> steps;
  if (!ParseSteps(path, steps)) return std::nullopt;
  const json* found = Walk(object, steps, 0);
  if (found == nullptr) return std::nullopt;
  return *found;
}

nlohmann::json BuildTable(const std::vector<PrinterColumn>& columns,
                          const std::vector<nlohmann::json>& objects, SystemTime now,
                          bool include_object_metadata) {
  return BuildTable(columns, objects, now,
                    include_object_metadata ? IncludeObject::kMetadata : IncludeObject::kNone);
}

nlohmann::json BuildTable(const std::vector<PrinterColumn>& columns,
                          const std::vector<nlohmann::json>& objects, SystemTime now,
                          IncludeObject include) {
  std::vector<const PrinterColumn*> all;
  PrinterColumn name_column{"Name", "string",         "name", std::string(kNameDescription),
                            0,      ".metadata.name", nullptr};
  bool has_name = false;
  for (const PrinterColumn& c : columns) has_name = has_name || c.format == "name";
  if (!has_name) all.push_back(&name_column);
  for (const PrinterColumn& c : columns) all.push_back(&c);

  json defs = json::array();
  // Paths are parsed once per table, not once per cell.
  std::vector<std::optional<std::vector<Step>>> paths;
  for (const PrinterColumn* c : all) {
    defs.push_back(ColumnDefinition(*c));
    std::vector<Step> steps;
    paths.push_back(ParseSteps(c->json_path, steps) ? std::optional(std::move(steps))
                                                    : std::nullopt);
  }
  json rows = json::array();
  for (const json& object : objects) {
    json cells = json::array();
    for (size_t i = 0; i < all.size(); ++i) {
      const PrinterColumn& c = *all[i];
      cells.push_back(c.cell ? c.cell(object, now) : PathCell(c, paths[i], object, now));
    }
    json row = {{"cells", std::move(cells)}};
    if (include == IncludeObject::kMetadata) row["object"] = PartialObjectMetadata(object);
    if (include == IncludeObject::kObject) row["object"] = object;
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", json::object()},
          {"columnDefinitions", std::move(defs)},
          {"rows", std::move(rows)}};
}

std::vector<PrinterColumn> ColumnsForCrdVersion(const nlohmann::json& crd_version) {
  std::vector<PrinterColumn> out;
  auto it =
      crd_version.is_object() ? crd_version.find("additionalPrinterColumns") : crd_version.end();
  if (it == crd_version.end() || !it->is_array() || it->empty()) {
    out.push_back({"Age", "date", "",
                   "CreationTimestamp is a timestamp representing the server time when this "
                   "object was created.",
                   0, ".metadata.creationTimestamp", nullptr});
    return out;
  }
  for (const json& c : *it) {
    if (!c.is_object()) continue;
    PrinterColumn col;
    col.name = c.value("name", "");
    col.type = c.value("type", "string");
    col.format = c.value("format", "");
    col.description = c.value("description", "");
    col.priority = c.value("priority", 0);
    col.json_path = c.value("jsonPath", c.value("JSONPath", ""));
    // "name" format marks the built-in Name column; a CRD column using it
    // must not suppress that column.
    if (col.format == "name") col.format = "";
    out.push_back(std::move(col));
  }
  return out;
}

}  // namespace stash::api
