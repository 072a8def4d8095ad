#include "stash/apis/metrics.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::apis {
namespace {

BackupConfiguration Bc() {
  BackupConfiguration bc;
  bc.metadata.name = "pause-backup";
  bc.metadata.namespace_ = "demo";
  bc.spec.repository.name = "gcs-repo";
  return bc;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(StashMetrics, ASucceededSessionSetsBothPrefixesWithStashLabels) {
  MetricsRegistry m;
  BackupSession s;
  s.metadata.creation_timestamp = "2024-05-06T10:00:00Z";
  s.status.phase = "Succeeded";
  s.status.session_duration = "1m5s";
  BackupTargetStatus t;
  t.ref.api_version = "apps/v1";
  t.ref.kind = "Deployment";
  t.ref.name = "stash-demo";
  t.phase = "Succeeded";
  t.total_hosts = 1;
  HostBackupStats h;
  h.hostname = "host-0";
  h.phase = "Succeeded";
  h.duration = "2.5s";
  SnapshotStats snap;
  snap.total_size = "1.500 KiB";
  snap.uploaded = "512 B";
  snap.processing_time = "1:02";
  snap.file_stats.total_files = 3;
  snap.file_stats.new_files = 1;
  snap.file_stats.modified_files = 0;
  snap.file_stats.unmodified_files = 2;
  h.snapshots = {snap};
  t.stats = {h};
  s.status.targets = {t};
  const MetricLabels invoker = BackupInvokerLabels("BackupConfiguration", Bc(), {{"team", "ops"}});
  auto end = SessionEndSeconds(s.metadata, s.status.session_duration);
  ASSERT_TRUE(end);
  EXPECT_DOUBLE_EQ(*end, 1714989600 + 65);
  SetBackupSessionMetrics(m, invoker, s.status, *end);
  const MetricLabels target = UpsertLabels(invoker, TargetLabels(t.ref));
  SetBackupTargetMetrics(m, target, t, *end);
  ASSERT_OK(SetBackupHostMetrics(m, target, h));
  const std::string text = m.Exposition();
  const std::string l =
      "{driver=\"Restic\",invoker_kind=\"BackupConfiguration\",invoker_name=\"pause-backup\","
      "namespace=\"demo\",repository=\"gcs-repo\",team=\"ops\"}";
  EXPECT_TRUE(Has(text, "stash_backup_session_success" + l + " 1")) << text;
  EXPECT_TRUE(Has(text, "stash_appscode_com_backupsession_success" + l + " 1"));
  EXPECT_TRUE(Has(text, "stash_backup_session_duration_seconds" + l + " 65"));
  EXPECT_TRUE(Has(text, "stash_backup_last_success_time_seconds" + l + " 1.714989665e+09"));
  EXPECT_TRUE(Has(text, "# TYPE stash_backup_target_count_total untyped"));
  EXPECT_TRUE(Has(text, "stash_backup_target_count_total" + l + " 1"));
  const std::string hl =
      "{driver=\"Restic\",group=\"apps\",hostname=\"host-0\",invoker_kind=\"BackupConfiguration\","
      "invoker_name=\"pause-backup\",kind=\"Deployment\",name=\"stash-demo\",namespace=\"demo\","
      "repository=\"gcs-repo\",team=\"ops\"}";
  EXPECT_TRUE(Has(text, "stash_backup_host_data_size_bytes" + hl + " 1536")) << text;
  EXPECT_TRUE(Has(text, "stash_appscode_com_backupsession_host_data_uploaded_bytes" + hl + " 512"));
  EXPECT_TRUE(Has(text, "stash_backup_host_data_processing_time_seconds" + hl + " 62"));
  EXPECT_TRUE(Has(text, "stash_backup_host_files_total" + hl + " 3"));
  EXPECT_TRUE(Has(text, "stash_backup_host_files_unmodified" + hl + " 2"));
  EXPECT_TRUE(Has(text, "stash_backup_host_backup_duration_seconds" + hl + " 2.5"));
}

TEST(StashMetrics, AFailedSessionReportsOnlyItsFailure) {
  MetricsRegistry m;
  BackupSessionStatus st;
  st.phase = "Failed";
  SetBackupSessionMetrics(m, BackupInvokerLabels("", Bc()), st, 0);
  const std::string text = m.Exposition();
  EXPECT_NE(text.find("stash_backup_session_success{"), std::string::npos);
  EXPECT_NE(text.find("} 0\n"), std::string::npos);
  EXPECT_EQ(text.find("last_success_time"), std::string::npos);
}

TEST(StashMetrics, RepositoryLabelsAndValues) {
  Repository r;
  r.metadata.name = "gcs-repo";
  r.metadata.namespace_ = "demo";
  r.spec.backend.gcs = BucketSpec{};
  r.spec.backend.gcs->bucket = "appscode-qa";
  r.spec.backend.gcs->prefix = "/sample/data";
  EXPECT_EQ(RepositoryLabels(r), (MetricLabels{{"name", "gcs-repo"},
                                               {"namespace", "demo"},
                                               {"backend", "gcs"},
                                               {"bucket", "appscode-qa"},
                                               {"prefix", "/sample/data"}}));
  r.status.integrity = true;
  r.status.total_size = "2.000 MiB";
  r.status.snapshot_count = 5;
  r.status.snapshots_removed_on_last_cleanup = 2;
  MetricsRegistry m;
  ASSERT_OK(SetRepositoryMetrics(m, RepositoryLabels(r), r.status));
  const std::string text = m.Exposition();
  EXPECT_NE(text.find("stash_repository_size_bytes{backend=\"gcs\",bucket=\"appscode-qa\",name="
                      "\"gcs-repo\",namespace=\"demo\",prefix=\"/sample/data\"} 2.097152e+06\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE stash_appscode_com_repository_snapshot_count untyped"),
            std::string::npos);
  EXPECT_FALSE(SizeToBytes("lots").ok());
  EXPECT_EQ(*TimeToSeconds("1:02:03"), 3723);
  EXPECT_EQ(*TimeToSeconds("45"), 45);
}

}  // namespace
}  // namespace stash::apis
