#include "stash/core/metrics.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace stash {

namespace {

MetricLabels Sorted(MetricLabels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

// The exposition format's escapes: `\` and newline in HELP text, and `"`
// as well in label values.
std::string Escape(std::string_view s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view s) { return Escape(s, false); }
std::string EscapeLabelValue(std::string_view s) { return Escape(s, true); }

std::string LabelText(const MetricLabels& labels, const std::string& le = "") {
  if (labels.empty() && le.empty()) return "";
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    s += (first ? "" : ",") + k + "=\"" + EscapeLabelValue(v) + "\"";
    first = false;
  }
  if (!le.empty()) s += std::string(first ? "" : ",") + "le=\"" + le + "\"";
  return s + "}";
}

bool Contains(const MetricLabels& labels, const MetricLabels& match) {
  for (const auto& m : match) {
    if (std::find(labels.begin(), labels.end(), m) == labels.end()) return false;
  }
  return true;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kUntyped:
      return "untyped";
  }
  return "untyped";
}

}  // namespace

const std::vector<double>& MetricsRegistry::DefaultBuckets() {
  static const std::vector<double> kBuckets = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return kBuckets;
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(const std::string& name,
                                                    const std::string& help, MetricType type) {
  Family& f = families_[name];
  if (f.series.empty()) {
    f.help = help;
    f.type = type;
  }
  return f;
}

void MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                            const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyFor(name, help, MetricType::kGauge).series[Sorted(labels)].value = value;
}

void MetricsRegistry::Untyped(const std::string& name, const std::string& help,
                              const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyFor(name, help, MetricType::kUntyped).series[Sorted(labels)].value = value;
}

void MetricsRegistry::Add(const std::string& name, const std::string& help,
                          const MetricLabels& labels, double delta) {
  std::lock_guard lock(mu_);
  FamilyFor(name, help, MetricType::kCounter).series[Sorted(labels)].value += delta;
}

void MetricsRegistry::Observe(const std::string& name, const std::string& help,
                              const MetricLabels& labels, double value,
                              const std::vector<double>& buckets) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, MetricType::kHistogram);
  if (f.bounds.empty()) f.bounds = buckets;
  Series& s = f.series[Sorted(labels)];
  if (s.buckets.size() != f.bounds.size()) s.buckets.assign(f.bounds.size(), 0);
  for (size_t i = 0; i < f.bounds.size(); ++i) {
    if (value <= f.bounds[i]) ++s.buckets[i];
  }
  s.value += value;
  ++s.count;
}

void MetricsRegistry::RemoveMatching(const MetricLabels& match) {
  std::lock_guard lock(mu_);
  for (auto fit = families_.begin(); fit != families_.end();) {
    auto& series = fit->second.series;
    for (auto it = series.begin(); it != series.end();) {
      it = Contains(it->first, match) ? series.erase(it) : std::next(it);
    }
    fit = series.empty() ? families_.erase(fit) : std::next(fit);
  }
}

void MetricsRegistry::Remove(const std::string& name, const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.series.erase(Sorted(labels));
  if (it->second.series.empty()) families_.erase(it);
}

void MetricsRegistry::Merge(const MetricsRegistry& other) {
  if (&other == this) return;
  std::scoped_lock lock(mu_, other.mu_);
  for (const auto& [name, f] : other.families_) {
    Family& mine = families_[name];
    if (mine.series.empty()) {
      mine.help = f.help;
      mine.type = f.type;
      mine.bounds = f.bounds;
    }
    for (const auto& [labels, s] : f.series) mine.series[labels] = s;
  }
}

std::string MetricsRegistry::Exposition() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (f.series.empty()) continue;
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + name + " " + TypeName(f.type) + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != MetricType::kHistogram) {
        out += name + LabelText(labels) + " " + FormatMetricValue(s.value) + "\n";
        continue;
      }
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        out += name + "_bucket" + LabelText(labels, FormatMetricValue(f.bounds[i])) + " " +
               std::to_string(i < s.buckets.size() ? s.buckets[i] : 0) + "\n";
      }
      out += name + "_bucket" + LabelText(labels, "+Inf") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + LabelText(labels) + " " + FormatMetricValue(s.value) + "\n";
      out += name + "_count" + LabelText(labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

Status CheckMetricName(std::string_view name) {
  bool ok = !name.empty();
  for (size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
  }
  if (ok) return Status::Ok();
  return InvalidError("\"" + std::string(name) +
                      "\" is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
}

Status CheckLabelName(std::string_view name) {
  bool ok = !name.empty() && name.substr(0, 2) != "__";
  for (size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
  }
  if (ok) return Status::Ok();
  return InvalidError("\"" + std::string(name) +
                      "\" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting "
                      "with __)");
}

Result<MetricLabels> ParseMetricLabels(const std::vector<std::string>& key_values) {
  MetricLabels out;
  for (const std::string& kv : key_values) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || kv.find('=', eq + 1) != std::string::npos) {
      return InvalidError("metrics label \"" + kv + "\" must be key=value");
    }
    const std::string key = kv.substr(0, eq);
    if (Status s = CheckLabelName(key); !s.ok()) return s.Prepend("metrics label \"" + kv + "\"");
    out.emplace_back(key, kv.substr(eq + 1));
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  const size_t e = s.find('e');
  const int exp = std::atoi(s.c_str() + e + 1);
  // Go's 'g' with the shortest precision switches to the exponent form below
  // 1e-4 and from 1e6 on ("1.6e+09"), as client_golang writes values.
  if (exp < -4 || exp >= 6) return s;
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

}  // namespace stash
