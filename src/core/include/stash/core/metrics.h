// MetricsRegistry: metrics kept in memory and written in Prometheus' text
// exposition format (version 0.0.4), as `/metrics` serves them and as a
// pushgateway accepts them. Gauges, counters and histograms, each a family
// (name, help, type) of series told apart by their labels.
//
//   MetricsRegistry m;
//   m.Gauge("stash_backup_session_success", "Indicates whether ...",
//           {{"invoker_kind", "BackupConfiguration"}, {"invoker_name", "pause-backup"}}, 1);
//   m.Add("stash_operator_reconcile_total", "Reconciles done", {{"controller", "bc"}}, 1);
//   m.Observe("stash_operator_reconcile_duration_seconds", "...", {}, 0.012);
//   std::string text = m.Exposition();
//
// Families come out sorted by name, series by their labels, so two
// expositions of the same state are byte-identical. A name or label that
// Prometheus would reject is refused by CheckName (callers build names from
// constants; user-given labels are checked before use).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stash/core/result.h"
#include "stash/core/status.h"

namespace stash {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kGauge, kCounter, kHistogram, kUntyped };

class MetricsRegistry {
 public:
  // Prometheus' default histogram buckets (seconds).
  static const std::vector<double>& DefaultBuckets();

  void Gauge(const std::string& name, const std::string& help, const MetricLabels& labels,
             double value);
  // A gauge declared "untyped": for names Prometheus' linter reserves to
  // counters ("_total") or histograms ("_count") that a gauge must keep for
  // compatibility (Stash's target_count_total, snapshot_count).
  void Untyped(const std::string& name, const std::string& help, const MetricLabels& labels,
               double value);
  void Add(const std::string& name, const std::string& help, const MetricLabels& labels,
           double delta = 1);
  void Observe(const std::string& name, const std::string& help, const MetricLabels& labels,
               double value, const std::vector<double>& buckets = DefaultBuckets());
  // Drops every series of every family whose labels contain all of `match`
  // (e.g. a deleted BackupConfiguration's series).
  void RemoveMatching(const MetricLabels& match);
  // Drops one series.
  void Remove(const std::string& name, const MetricLabels& labels);

  // The whole registry in the text format, ending with a newline (empty when
  // no series).
  std::string Exposition() const;

  // Copies every series of `other` into this registry (replacing equal ones).
  void Merge(const MetricsRegistry& other);

 private:
  struct Series {
    double value = 0;               // gauge, counter; histogram: sum
    uint64_t count = 0;             // histogram
    std::vector<uint64_t> buckets;  // histogram, cumulative at write time
  };
  struct Family {
    std::string help;
    MetricType type = MetricType::kGauge;
    std::vector<double> bounds;  // histogram
    std::map<MetricLabels, Series> series;
  };
  Family& FamilyFor(const std::string& name, const std::string& help, MetricType type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// A metric or label name Prometheus accepts: [a-zA-Z_:][a-zA-Z0-9_:]*
// (labels: no ':', and not starting with "__").
Status CheckMetricName(std::string_view name);
Status CheckLabelName(std::string_view name);

// Stash's user labels "key=value" (run-backup's --metrics-labels): pairs with
// a valid label name, in order; a malformed one is an error naming it.
Result<MetricLabels> ParseMetricLabels(const std::vector<std::string>& key_values);

// Go's strconv.FormatFloat(v, 'g', -1, 64) as Prometheus' client writes
// sample values: "1", "0.5", "1.6e+09", "+Inf", "NaN".
std::string FormatMetricValue(double v);

}  // namespace stash
