#include "stash/apis/backup.h"

#include <algorithm>
#include <tuple>

#include "stash/kube/stash_names.h"

namespace stash::apis {

template <class V>
void BackupTarget::Visit(V& v) {
  v("alias", alias);
  v("ref", ref);
  v("paths", paths);
  v("volumeMounts", volume_mounts);
  v("replicas", replicas);
  v("snapshotClassName", snapshot_class_name);
  v("exclude", exclude);
  v("args", args);
}
STASH_APIS_DEFINE_CODEC(BackupTarget);

template <class V>
void BackupHooks::Visit(V& v) {
  v("preBackup", pre_backup);
  v("postBackup", post_backup);
}
STASH_APIS_DEFINE_CODEC(BackupHooks);

template <class V>
void ContainerRuntimeSettings::Visit(V& v) {
  v("resources", resources);
  v("securityContext", security_context);
  v("env", env);
}
STASH_APIS_DEFINE_CODEC(ContainerRuntimeSettings);

template <class V>
void RuntimeSettings::Visit(V& v) {
  v("pod", pod);
  v("container", container);
}
STASH_APIS_DEFINE_CODEC(RuntimeSettings);

template <class V>
void BackupConfigurationSpec::Visit(V& v) {
  v("task", task);
  v("target", target);
  v("runtimeSettings", runtime_settings);
  v("tempDir", temp_dir);
  v("interimVolumeTemplate", interim_volume_template);
  v("hooks", hooks);
  v("schedule", schedule);
  v("driver", driver);
  v("repository", repository);
  v("retentionPolicy", retention_policy);
  v("paused", paused);
  v("backupHistoryLimit", backup_history_limit);
  v("timeOut", time_out);
  v("retryConfig", retry_config);
}
STASH_APIS_DEFINE_CODEC(BackupConfigurationSpec);

template <class V>
void BackupConfigurationStatus::Visit(V& v) {
  v("observedGeneration", observed_generation);
  v("phase", phase);
  v("conditions", conditions);
}
STASH_APIS_DEFINE_CODEC(BackupConfigurationStatus);

template <class V>
void BackupConfiguration::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(BackupConfiguration);

template <class V>
void BackupSessionSpec::Visit(V& v) {
  v("invoker", invoker);
  v("retryLeft", retry_left);
}
STASH_APIS_DEFINE_CODEC(BackupSessionSpec);

template <class V>
void FileStats::Visit(V& v) {
  v("totalFiles", total_files);
  v("newFiles", new_files);
  v("modifiedFiles", modified_files);
  v("unmodifiedFiles", unmodified_files);
}
STASH_APIS_DEFINE_CODEC(FileStats);

template <class V>
void SnapshotStats::Visit(V& v) {
  v("name", name);
  v("path", path);
  v("totalSize", total_size);
  v("uploaded", uploaded);
  v("processingTime", processing_time);
  v("fileStats", file_stats);
}
STASH_APIS_DEFINE_CODEC(SnapshotStats);

template <class V>
void HostBackupStats::Visit(V& v) {
  v("hostname", hostname);
  v("phase", phase);
  v("snapshots", snapshots);
  v("duration", duration);
  v("error", error);
}
STASH_APIS_DEFINE_CODEC(HostBackupStats);

template <class V>
void BackupTargetStatus::Visit(V& v) {
  v("ref", ref);
  v("totalHosts", total_hosts);
  v("phase", phase);
  v("stats", stats);
  v("preBackupActions", pre_backup_actions);
  v("postBackupActions", post_backup_actions);
  v("conditions", conditions);
}
STASH_APIS_DEFINE_CODEC(BackupTargetStatus);

template <class V>
void BackupSessionProgress::Visit(V& v) {
  v("percent", percent);
  v("filesDone", files_done);
  v("totalFiles", total_files);
  v("bytesDone", bytes_done);
  v("totalBytes", total_bytes);
  v("rate", rate);
  v("eta", eta);
}
STASH_APIS_DEFINE_CODEC(BackupSessionProgress);

template <class V>
void BackupSessionStatus::Visit(V& v) {
  v("phase", phase);
  v("sessionDuration", session_duration);
  v("targets", targets);
  v("conditions", conditions);
  v("sessionDeadline", session_deadline);
  v("retried", retried);
  v("nextRetry", next_retry);
  v("progress", progress);
}
STASH_APIS_DEFINE_CODEC(BackupSessionStatus);

template <class V>
void BackupSession::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(BackupSession);

bool IsFinalPhase(std::string_view phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Skipped" || phase == "Unknown";
}

bool IsSessionOf(const BackupSession& s, std::string_view kind, std::string_view name) {
  const TypedLocalObjectReference& inv = s.spec.invoker;
  if (inv.name == name && (inv.kind.empty() ? kind : std::string_view(inv.kind)) == kind) {
    return true;
  }
  return s.metadata.Label(kube::kLabelInvokerName) == name ||
         s.metadata.Label(kube::kLabelBackupConfiguration) == name;
}

std::vector<std::string> SessionsBeyondHistoryLimit(
    const std::vector<std::shared_ptr<const BackupSession>>& sessions, int64_t limit) {
  std::vector<const BackupSession*> items;
  for (const auto& s : sessions) items.push_back(s.get());
  std::sort(items.begin(), items.end(), [](const BackupSession* a, const BackupSession* b) {
    return std::tie(a->metadata.creation_timestamp, a->metadata.name) >
           std::tie(b->metadata.creation_timestamp, b->metadata.name);
  });
  const size_t keep = size_t(std::max<int64_t>(limit, 0));
  bool kept_last_complete = false;
  std::vector<std::string> beyond;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& phase = items[i]->status.phase;
    const bool complete = phase == "Succeeded" || phase == "Failed";
    if (i < keep) {
      kept_last_complete |= complete;
      continue;
    }
    if (!IsFinalPhase(phase)) continue;
    if (complete && !kept_last_complete && limit > 0) {
      kept_last_complete = true;
      continue;
    }
    beyond.push_back(items[i]->metadata.name);
  }
  return beyond;
}

}  // namespace stash::apis
