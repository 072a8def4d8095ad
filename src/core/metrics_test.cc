#include "stash/core/metrics.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash {
namespace {

TEST(MetricsRegistry, WritesPrometheusTextSortedWithEscapedLabels) {
  MetricsRegistry m;
  m.Gauge("stash_backup_session_success",
          "Indicates whether the entire backup session was succeeded or not",
          {{"namespace", "demo"}, {"invoker_name", "pause-backup"}}, 1);
  m.Gauge("stash_backup_last_success_time_seconds", "Last success\\time\nnext",
          {{"a", "x\"y\\z\n"}}, 1715000000.5);
  m.Add("stash_operator_reconcile_total", "Reconciles", {{"controller", "bc"}});
  m.Add("stash_operator_reconcile_total", "Reconciles", {{"controller", "bc"}}, 2);
  EXPECT_EQ(m.Exposition(),
            "# HELP stash_backup_last_success_time_seconds Last success\\\\time\\nnext\n"
            "# TYPE stash_backup_last_success_time_seconds gauge\n"
            "stash_backup_last_success_time_seconds{a=\"x\\\"y\\\\z\\n\"} 1.7150000005e+09\n"
            "# HELP stash_backup_session_success Indicates whether the entire backup session was "
            "succeeded or not\n"
            "# TYPE stash_backup_session_success gauge\n"
            "stash_backup_session_success{invoker_name=\"pause-backup\",namespace=\"demo\"} 1\n"
            "# HELP stash_operator_reconcile_total Reconciles\n"
            "# TYPE stash_operator_reconcile_total counter\n"
            "stash_operator_reconcile_total{controller=\"bc\"} 3\n");
}

TEST(MetricsRegistry, HistogramsHaveCumulativeBucketsSumAndCount) {
  MetricsRegistry m;
  m.Observe("d_seconds", "Durations", {{"c", "x"}}, 0.3, {0.1, 0.5, 1});
  m.Observe("d_seconds", "Durations", {{"c", "x"}}, 0.05, {0.1, 0.5, 1});
  m.Observe("d_seconds", "Durations", {{"c", "x"}}, 7, {0.1, 0.5, 1});
  EXPECT_EQ(m.Exposition(),
            "# HELP d_seconds Durations\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{c=\"x\",le=\"0.1\"} 1\n"
            "d_seconds_bucket{c=\"x\",le=\"0.5\"} 2\n"
            "d_seconds_bucket{c=\"x\",le=\"1\"} 2\n"
            "d_seconds_bucket{c=\"x\",le=\"+Inf\"} 3\n"
            "d_seconds_sum{c=\"x\"} 7.35\n"
            "d_seconds_count{c=\"x\"} 3\n");
}

TEST(MetricsRegistry, RemoveMatchingDropsTheSeriesOfOneObject) {
  MetricsRegistry m;
  m.Gauge("g", "h", {{"invoker_name", "a"}, {"namespace", "demo"}}, 1);
  m.Gauge("g", "h", {{"invoker_name", "b"}, {"namespace", "demo"}}, 1);
  m.Gauge("other", "h", {{"invoker_name", "a"}, {"namespace", "demo"}}, 1);
  m.RemoveMatching({{"namespace", "demo"}, {"invoker_name", "a"}});
  EXPECT_EQ(m.Exposition(),
            "# HELP g h\n# TYPE g gauge\ng{invoker_name=\"b\",namespace=\"demo\"} 1\n");
  MetricsRegistry copy;
  copy.Merge(m);
  EXPECT_EQ(copy.Exposition(), m.Exposition());
}

TEST(MetricsValues, FormattedAsGoClientWritesThem) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(1), "1");
  EXPECT_EQ(FormatMetricValue(0.5), "0.5");
  EXPECT_EQ(FormatMetricValue(123456), "123456");
  EXPECT_EQ(FormatMetricValue(1234567), "1.234567e+06");
  EXPECT_EQ(FormatMetricValue(0.00001), "1e-05");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
}

TEST(MetricsNames, ResticAndStashLabelsAreCheckedAsPrometheusDoes) {
  EXPECT_OK(CheckMetricName("stash_appscode_com_backupsession_success"));
  EXPECT_FALSE(CheckMetricName("9lives").ok());
  EXPECT_FALSE(CheckLabelName("__name__").ok());
  EXPECT_FALSE(CheckLabelName("a:b").ok());
  auto labels = ParseMetricLabels({"team=ops", "env=prod"});
  ASSERT_OK(labels);
  EXPECT_EQ(*labels, (MetricLabels{{"team", "ops"}, {"env", "prod"}}));
  EXPECT_FALSE(ParseMetricLabels({"novalue"}).ok());
  EXPECT_FALSE(ParseMetricLabels({"bad-key=v"}).ok());
}

}  // namespace
}  // namespace stash
