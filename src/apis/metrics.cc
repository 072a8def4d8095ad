#include "stash/apis/metrics.h"

#include <algorithm>
#include <cstdio>

#include "stash/kube/duration.h"
#include "stash/kube/events.h"

namespace stash::apis {

namespace {

// One metric in both of Stash's prefixes.
struct Family {
  const char* legacy;  // full legacy name
  const char* fresh;   // full new name
  const char* help;
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Stash declares every family a gauge; the ones whose names end in "_total"
// or "_count" are written "untyped" (same samples, Prometheus stores them the
// same way) so that `promtool check metrics` accepts the exposition.
void Set(MetricsRegistry& m, const Family& f, const MetricLabels& labels, double v) {
  for (const char* name : {f.legacy, f.fresh}) {
    if (EndsWith(name, "_total") || EndsWith(name, "_count")) {
      m.Untyped(name, f.help, labels, v);
    } else {
      m.Gauge(name, f.help, labels, v);
    }
  }
}

constexpr const char* kSessionHelp =
    "Indicates whether the entire backup session was succeeded or not";
constexpr const char* kDurationHelp =
    "Indicates total time taken to complete the entire backup session";

const Family kSessionSuccess{"stash_backup_session_success",
                             "stash_appscode_com_backupsession_success", kSessionHelp};
const Family kSessionDuration{"stash_backup_session_duration_seconds",
                              "stash_appscode_com_backupsession_duration_seconds", kDurationHelp};
const Family kTargetCount{
    "stash_backup_target_count_total", "stash_appscode_com_backupsession_target_count_total",
    "Indicates the total number of target that was backed up in this backup session"};
const Family kLastSuccess{"stash_backup_last_success_time_seconds",
                          "stash_appscode_com_backupsession_last_success_time_seconds",
                          kDurationHelp};
const Family kTargetSuccess{"stash_backup_target_success",
                            "stash_appscode_com_backupsession_target_success",
                            "Indicates whether the backup for a target has succeeded or not"};
const Family kTargetHosts{"stash_backup_target_host_count_total",
                          "stash_appscode_com_backupsession_target_host_count_total",
                          "Indicates the total number of hosts that was backed up for this target"};
const Family kTargetLastSuccess{"stash_backup_target_last_success_time_seconds",
                                "stash_appscode_com_backupsession_target_last_success_time_seconds",
                                kDurationHelp};
const Family kHostSuccess{"stash_backup_host_backup_success",
                          "stash_appscode_com_backupsession_host_backup_success",
                          "Indicates whether the backup for a host succeeded or not"};
const Family kHostDuration{"stash_backup_host_backup_duration_seconds",
                           "stash_appscode_com_backupsession_host_backup_duration_seconds",
                           "Indicates total time taken to complete the backup process for a host"};
const Family kHostSize{"stash_backup_host_data_size_bytes",
                       "stash_appscode_com_backupsession_host_data_size_bytes",
                       "Total size of the target data to backup for a host (in bytes)"};
const Family kHostUploaded{"stash_backup_host_data_uploaded_bytes",
                           "stash_appscode_com_backupsession_host_data_uploaded_bytes",
                           "Amount of data uploaded to the repository for a host (in bytes)"};
const Family kHostProcessing{"stash_backup_host_data_processing_time_seconds",
                             "stash_appscode_com_backupsession_host_data_processing_time_seconds",
                             "Total time taken to process the target data for a host"};
const Family kHostFiles{"stash_backup_host_files_total",
                        "stash_appscode_com_backupsession_host_files_total",
                        "Total number of files that has been backed up for a host"};
const Family kHostFilesNew{
    "stash_backup_host_files_new", "stash_appscode_com_backupsession_host_files_new",
    "Total number of new files that has been created since last backup for a host"};
const Family kHostFilesModified{
    "stash_backup_host_files_modified", "stash_appscode_com_backupsession_host_files_modified",
    "Total number of files that has been modified since last backup for a host"};
const Family kHostFilesUnmodified{
    "stash_backup_host_files_unmodified", "stash_appscode_com_backupsession_host_files_unmodified",
    "Total number of files that has not been changed since last backup for a host"};
const Family kRepoIntegrity{"stash_repository_integrity", "stash_appscode_com_repository_integrity",
                            "Result of repository integrity check after last backup"};
const Family kRepoSize{"stash_repository_size_bytes", "stash_appscode_com_repository_size_bytes",
                       "Indicates size of repository after last backup (in bytes)"};
const Family kRepoSnapshots{"stash_repository_snapshot_count",
                            "stash_appscode_com_repository_snapshot_count",
                            "Indicates number of snapshots stored in the repository"};
const Family kRepoCleaned{"stash_repository_snapshot_cleaned",
                          "stash_appscode_com_repository_snapshot_cleaned",
                          "Indicates number of old snapshots cleaned up according to retention "
                          "policy on last backup session"};
const Family kRestoreSuccess{"stash_restore_session_success",
                             "stash_appscode_com_restoresession_success",
                             "Indicates whether the entire restore session was succeeded or not"};
const Family kRestoreDuration{
    "stash_restore_session_duration_seconds", "stash_appscode_com_restoresession_duration_seconds",
    "Indicates the total time taken to complete the entire restore session"};
const Family kRestoreTargets{
    "stash_restore_target_count_total", "stash_appscode_com_restoresession_target_count_total",
    "Indicates the total number of targets that was restored in this restore session"};
const Family kRestoreTargetSuccess{
    "stash_restore_target_success", "stash_appscode_com_restoresession_target_success",
    "Indicates whether the restore for a target has succeeded or not"};
const Family kRestoreTargetHosts{
    "stash_restore_target_host_count_total",
    "stash_appscode_com_restoresession_target_host_count_total",
    "Indicates the total number of hosts that was restored for this restore target"};
const Family kRestoreHostSuccess{"stash_restore_host_restore_success",
                                 "stash_appscode_com_restoresession_host_restore_success",
                                 "Indicates whether the restore process was succeeded for a host"};
const Family kRestoreHostDuration{
    "stash_restore_host_restore_duration_seconds",
    "stash_appscode_com_restoresession_host_restore_duration_seconds",
    "Indicates the total time taken to complete the restore process for a host"};

std::optional<double> GoDurationSeconds(const std::string& d) {
  auto parsed = kube::ParseGoDuration(d);
  if (!parsed.ok()) return std::nullopt;
  return std::chrono::duration<double>(*parsed).count();
}

MetricLabels InvokerLabels(const std::string& kind, const ObjectMeta& meta,
                           const std::string& driver, const std::string& repository,
                           const MetricLabels& user) {
  MetricLabels own = {
      {"invoker_kind", kind}, {"invoker_name", meta.name}, {"namespace", meta.namespace_}};
  if (driver == "VolumeSnapshotter") {
    own = UpsertLabels(
        own, {{"driver", "VolumeSnapshotter"}, {"kind", "PersistentVolumeClaim"}, {"group", ""}});
  } else {
    own = UpsertLabels(own, {{"driver", "Restic"}, {"repository", repository}});
  }
  return UpsertLabels(user, own);
}

}  // namespace

MetricLabels UpsertLabels(MetricLabels base, const MetricLabels& more) {
  for (const auto& [k, v] : more) {
    bool found = false;
    for (auto& kv : base) {
      if (kv.first == k) {
        kv.second = v;
        found = true;
      }
    }
    if (!found) base.emplace_back(k, v);
  }
  return base;
}

MetricLabels BackupInvokerLabels(const std::string& invoker_kind, const BackupConfiguration& bc,
                                 const MetricLabels& user) {
  return InvokerLabels(invoker_kind.empty() ? "BackupConfiguration" : invoker_kind, bc.metadata,
                       bc.spec.driver, bc.spec.repository.name, user);
}

MetricLabels RestoreInvokerLabels(const RestoreSession& rs, const MetricLabels& user) {
  return InvokerLabels("RestoreSession", rs.metadata, rs.spec.driver, rs.spec.repository.name,
                       user);
}

MetricLabels TargetLabels(const TargetRef& ref) {
  std::string group;
  if (size_t slash = ref.api_version.find('/'); slash != std::string::npos) {
    group = ref.api_version.substr(0, slash);
  }
  return {{"kind", ref.kind}, {"group", group}, {"name", ref.name}};
}

MetricLabels RepositoryLabels(const Repository& repo) {
  const Backend& b = repo.spec.backend;
  std::string provider, bucket, prefix;
  if (b.local) {
    provider = "local";
    bucket = b.local->mount_path;
  } else if (b.s3) {
    provider = "s3", bucket = b.s3->bucket, prefix = b.s3->prefix;
  } else if (b.gcs) {
    provider = "gcs", bucket = b.gcs->bucket, prefix = b.gcs->prefix;
  } else if (b.azure) {
    provider = "azure", bucket = b.azure->container, prefix = b.azure->prefix;
  } else if (b.swift) {
    provider = "swift", bucket = b.swift->container, prefix = b.swift->prefix;
  } else if (b.b2) {
    provider = "b2", bucket = b.b2->bucket, prefix = b.b2->prefix;
  } else if (b.rest) {
    provider = "rest";
    // url.Parse: host and path of the URL.
    const std::string& u = b.rest->url;
    size_t host = u.find("://");
    host = host == std::string::npos ? 0 : host + 3;
    const size_t path = u.find('/', host);
    std::string authority =
        u.substr(host, path == std::string::npos ? std::string::npos : path - host);
    if (size_t at = authority.rfind('@'); at != std::string::npos)
      authority = authority.substr(at + 1);
    bucket = authority;
    if (path != std::string::npos) prefix = u.substr(path);
  }
  MetricLabels l = {
      {"name", repo.metadata.name}, {"namespace", repo.metadata.namespace_}, {"backend", provider}};
  if (!bucket.empty()) l.emplace_back("bucket", bucket);
  if (!prefix.empty()) l.emplace_back("prefix", prefix);
  return l;
}

std::optional<double> SessionEndSeconds(const ObjectMeta& meta, const std::string& duration) {
  auto created = kube::ParseTime(meta.creation_timestamp);
  auto secs = GoDurationSeconds(duration);
  if (!created.ok() || !secs) return std::nullopt;
  return std::chrono::duration<double>(created->time_since_epoch()).count() + *secs;
}

void SetBackupSessionMetrics(MetricsRegistry& m, const MetricLabels& invoker,
                             const BackupSessionStatus& status, double end_seconds) {
  bool succeeded = status.phase == "Succeeded";
  for (const auto& t : status.targets) succeeded = succeeded && t.phase == "Succeeded";
  if (!succeeded) {
    Set(m, kSessionSuccess, invoker, 0);
    return;
  }
  Set(m, kSessionSuccess, invoker, 1);
  Set(m, kSessionDuration, invoker, GoDurationSeconds(status.session_duration).value_or(0));
  Set(m, kTargetCount, invoker, static_cast<double>(status.targets.size()));
  Set(m, kLastSuccess, invoker, end_seconds);
}

void SetBackupTargetMetrics(MetricsRegistry& m, const MetricLabels& labels,
                            const BackupTargetStatus& target, double end_seconds) {
  if (target.phase != "Succeeded") {
    Set(m, kTargetSuccess, labels, 0);
    return;
  }
  Set(m, kTargetSuccess, labels, 1);
  Set(m, kTargetLastSuccess, labels, end_seconds);
  if (target.total_hosts) Set(m, kTargetHosts, labels, *target.total_hosts);
}

Status SetBackupHostMetrics(MetricsRegistry& m, const MetricLabels& labels,
                            const HostBackupStats& host) {
  const MetricLabels l = UpsertLabels(labels, {{"hostname", host.hostname}});
  if (!host.error.empty() || host.phase == "Failed") {
    Set(m, kHostSuccess, l, 0);
    return Status::Ok();
  }
  double size = 0, uploaded = 0, processing = 0;
  double files = 0, fresh = 0, modified = 0, unmodified = 0;
  for (const SnapshotStats& s : host.snapshots) {
    STASH_ASSIGN_OR_RETURN(double sz, SizeToBytes(s.total_size));
    STASH_ASSIGN_OR_RETURN(double up, SizeToBytes(s.uploaded));
    STASH_ASSIGN_OR_RETURN(double pt, TimeToSeconds(s.processing_time));
    size += sz, uploaded += up, processing += pt;
    files += static_cast<double>(s.file_stats.total_files.value_or(0));
    fresh += static_cast<double>(s.file_stats.new_files.value_or(0));
    modified += static_cast<double>(s.file_stats.modified_files.value_or(0));
    unmodified += static_cast<double>(s.file_stats.unmodified_files.value_or(0));
  }
  auto duration = GoDurationSeconds(host.duration);
  if (!duration) {
    return InvalidError("host " + host.hostname + ": duration \"" + host.duration +
                        "\" is not a Go duration");
  }
  Set(m, kHostSuccess, l, 1);
  Set(m, kHostDuration, l, *duration);
  Set(m, kHostSize, l, size);
  Set(m, kHostUploaded, l, uploaded);
  Set(m, kHostProcessing, l, processing);
  Set(m, kHostFiles, l, files);
  Set(m, kHostFilesNew, l, fresh);
  Set(m, kHostFilesModified, l, modified);
  Set(m, kHostFilesUnmodified, l, unmodified);
  return Status::Ok();
}

Status SetRepositoryMetrics(MetricsRegistry& m, const MetricLabels& labels,
                            const RepositoryStatus& status) {
  double size = 0;
  if (!status.total_size.empty()) {
    STASH_ASSIGN_OR_RETURN(size, SizeToBytes(status.total_size));
  }
  Set(m, kRepoIntegrity, labels, status.integrity.value_or(false) ? 1 : 0);
  Set(m, kRepoSize, labels, size);
  Set(m, kRepoSnapshots, labels, static_cast<double>(status.snapshot_count.value_or(0)));
  Set(m, kRepoCleaned, labels,
      static_cast<double>(status.snapshots_removed_on_last_cleanup.value_or(0)));
  return Status::Ok();
}

void SetRestoreSessionMetrics(MetricsRegistry& m, const MetricLabels& invoker,
                              const RestoreSession& rs) {
  const bool succeeded = rs.status.phase == "Succeeded";
  Set(m, kRestoreSuccess, invoker, succeeded ? 1 : 0);
  if (succeeded) {
    Set(m, kRestoreDuration, invoker, GoDurationSeconds(rs.status.session_duration).value_or(0));
    Set(m, kRestoreTargets, invoker, rs.spec.target ? 1 : 0);
  }
  if (!rs.spec.target) return;
  const MetricLabels target = UpsertLabels(invoker, TargetLabels(rs.spec.target->ref));
  Set(m, kRestoreTargetSuccess, target, succeeded ? 1 : 0);
  if (succeeded && rs.status.total_hosts) {
    Set(m, kRestoreTargetHosts, target, *rs.status.total_hosts);
  }
  for (const HostRestoreStats& h : rs.status.stats) {
    const MetricLabels l = UpsertLabels(target, {{"hostname", h.hostname}});
    const bool ok = h.phase == "Succeeded" && h.error.empty();
    Set(m, kRestoreHostSuccess, l, ok ? 1 : 0);
    if (ok) Set(m, kRestoreHostDuration, l, GoDurationSeconds(h.duration).value_or(0));
  }
}

Result<double> SizeToBytes(std::string_view text) {
  double v = 0;
  char unit[8] = {};
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%lf %7s", &v, unit) != 2) {
    return InvalidError("size \"" + s + "\" is not \"<number> <B|KiB|MiB|GiB|TiB>\"");
  }
  const std::string u = unit;
  if (u == "B") return v;
  if (u == "KiB") return v * 1024;
  if (u == "MiB") return v * 1024 * 1024;
  if (u == "GiB") return v * 1024 * 1024 * 1024;
  if (u == "TiB") return v * 1024 * 1024 * 1024 * 1024;
  return InvalidError("size \"" + s + "\" has an unknown unit \"" + u + "\"");
}

Result<double> TimeToSeconds(std::string_view text) {
  const std::string s(text);
  unsigned long long h = 0, m = 0, sec = 0;
  int n = 0;
  const size_t colons = std::count(s.begin(), s.end(), ':');
  bool ok = false;
  if (colons == 2) {
    ok = std::sscanf(s.c_str(), "%llu:%llu:%llu%n", &h, &m, &sec, &n) == 3;
  } else if (colons == 1) {
    ok = std::sscanf(s.c_str(), "%llu:%llu%n", &m, &sec, &n) == 2;
  } else {
    ok = std::sscanf(s.c_str(), "%llu%n", &sec, &n) == 1;
  }
  if (!ok) return InvalidError("processing time \"" + s + "\" is not H:MM:SS, M:SS or seconds");
  return static_cast<double>(h * 3600 + m * 60 + sec);
}

Status SetBackupSessionFamilies(MetricsRegistry& m, const BackupConfiguration& bc,
                                const BackupSession& s, const MetricLabels& user) {
  const MetricLabels invoker = BackupInvokerLabels(s.spec.invoker.kind, bc, user);
  const double end = SessionEndSeconds(s.metadata, s.status.session_duration).value_or(0);
  SetBackupSessionMetrics(m, invoker, s.status, end);
  Status first;
  for (const BackupTargetStatus& t : s.status.targets) {
    const MetricLabels target = UpsertLabels(invoker, TargetLabels(t.ref));
    SetBackupTargetMetrics(m, target, t, end);
    for (const HostBackupStats& h : t.stats) {
      Status st = SetBackupHostMetrics(m, target, h);
      if (first.ok()) first = st;
    }
  }
  return first;
}

}  // namespace stash::apis
