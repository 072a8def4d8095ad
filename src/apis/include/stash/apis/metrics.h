// Stash's Prometheus metrics for its kinds (stash-api.md §3.6): the session,
// target, host, repository and restore families, each written twice, under
// the legacy prefix (stash_backup_, stash_repository_, stash_restore_) and the
// new one (stash_appscode_com_backupsession_, ..._repository_,
// ..._restoresession_), with Stash's names, help texts and labels.
//
// Values come from the objects' statuses, so the operator (serving /metrics)
// and a sidecar (pushing to a pushgateway) write the same series. What Stash
// stamps "now" at push time (last_success_time_seconds) is the session's end
// here, creationTimestamp + sessionDuration, so a restarted operator reports
// the same value.
//
// Thread-safety: pure functions over values; they write into a registry,
// which is thread-safe.
#pragma once

#include <optional>

#include "stash/apis/backup.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
#include "stash/core/metrics.h"

namespace stash::apis {

// invoker_kind, invoker_name, namespace, driver ("Restic"; VolumeSnapshotter
// adds kind=PersistentVolumeClaim, group="") and repository, after `user`
// (Stash's --metrics-labels; invoker labels win on a clash).
MetricLabels BackupInvokerLabels(const std::string& invoker_kind, const BackupConfiguration& bc,
                                 const MetricLabels& user = {});
MetricLabels RestoreInvokerLabels(const RestoreSession& rs, const MetricLabels& user = {});
// kind, group (of apiVersion) and name of a target.
MetricLabels TargetLabels(const TargetRef& ref);
// name, namespace, backend (provider), bucket and prefix (when set).
MetricLabels RepositoryLabels(const Repository& repo);
// `base` with `more` upserted (Stash's upsertLabel).
MetricLabels UpsertLabels(MetricLabels base, const MetricLabels& more);

// When a final session ended: creationTimestamp + sessionDuration (seconds
// since the epoch); nullopt when either is missing or malformed.
std::optional<double> SessionEndSeconds(const ObjectMeta& meta, const std::string& duration);

// A completed BackupSession's session family: success, and when it
// succeeded duration_seconds, target_count_total and last_success_time_seconds
// (= end_seconds).
void SetBackupSessionMetrics(MetricsRegistry& m, const MetricLabels& invoker,
                             const BackupSessionStatus& status, double end_seconds);
// One target's family (invoker + TargetLabels): target_success, and when it
// succeeded target_host_count_total and target_last_success_time_seconds.
void SetBackupTargetMetrics(MetricsRegistry& m, const MetricLabels& labels,
                            const BackupTargetStatus& target, double end_seconds);
// One host's family (labels + hostname): host_backup_success, and when it
// succeeded duration, data size/uploaded/processing time and file counts
// summed over its snapshots. kInvalid when a stats field cannot be read.
Status SetBackupHostMetrics(MetricsRegistry& m, const MetricLabels& labels,
                            const HostBackupStats& host);
// All of a completed BackupSession of `bc`: the session family, each
// target's and each host's (invoker labels after `user`). Every family is
// written; the first host whose stats cannot be read is the error.
Status SetBackupSessionFamilies(MetricsRegistry& m, const BackupConfiguration& bc,
                                const BackupSession& session, const MetricLabels& user = {});
// The repository family (invoker + RepositoryLabels) from its status.
Status SetRepositoryMetrics(MetricsRegistry& m, const MetricLabels& labels,
                            const RepositoryStatus& status);
// A completed RestoreSession: session family, its one target (Stash's
// RestoreSession has one) and each host.
void SetRestoreSessionMetrics(MetricsRegistry& m, const MetricLabels& invoker,
                              const RestoreSession& rs);

// Stash's convertSizeToBytes ("2.567 KiB" → 2628.6) and convertTimeToSeconds
// ("1:02:03", "2:03", "12.5s"...); kInvalid naming the text otherwise.
Result<double> SizeToBytes(std::string_view text);
Result<double> TimeToSeconds(std::string_view text);

}  // namespace stash::apis
