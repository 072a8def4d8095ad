// BackupSidecar: `stash run-backup`, the container the operator injects into
// a workload. It watches the BackupSessions of its BackupConfiguration and,
// holding the Lease `lock-backupconfiguration-<name>-backup` so only one
// replica acts, runs each one: Skipped (with the guide's Warning event) when
// the BackupConfiguration is paused; otherwise Running → the preBackup hook
// (its failure fails the session, nothing backed up) → initialise the
// repository if new → back up each path → apply the retention policy →
// check → the postBackup hook (as its executionPolicy says) → Succeeded or Failed.
// With spec.timeOut, a session still running at creationTimestamp + timeOut
// (status.sessionDeadline) has its backup process stopped and ends Failed
// with the DeadlineExceeded condition
// (and, with --metrics-enabled, the session's metrics pushed to a pushgateway) with
// sessionDuration and per-host stats, then the Repository's status, events and backupHistoryLimit
// cleanup.
//
// A session found Running when the sidecar starts was cut off by a crash or
// kill; it ends Failed (BackupDisrupted) instead of staying Running forever.
//
// Thread-safety: Run on one thread; the object is not otherwise shared.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "stash/agent/backup_runner.h"
#include "stash/agent/repository.h"
#include "stash/core/clock.h"
#include "stash/core/metrics.h"
#include "stash/kube/client.h"
#include "stash/kube/events.h"

namespace stash::agent {

struct SidecarOptions {
  std::string ns;  // the pod's (and invoker's) namespace
  std::string invoker_kind = "BackupConfiguration";
  std::string invoker_name;
  std::string target_kind, target_name, target_ns;
  std::string pod_name, node_name;
  std::string data_dir;  // non-empty in embedded mode
  PathMap path_map;
  // --metrics-enabled: after each session, push Stash's session, target,
  // host and repository families to the pushgateway (empty URL: Stash's
  // default), with `metrics_labels` added.
  // Set by the sidecar to stop the backup process of a session past its
  // deadline (timeOut); the runner watches it. Null: timeOut cannot stop
  // a running backup (the session still ends DeadlineExceeded).
  std::atomic<bool>* cancel = nullptr;
  bool metrics_enabled = false;
  std::string pushgateway_url;
  MetricLabels metrics_labels;
};

class BackupSidecar {
 public:
  BackupSidecar(const kube::Client& client, Clock& clock, BackupRunner& runner,
                SidecarOptions opts);

  // Until `stop`; returns an error when leadership is lost (the runtime
  // restarts the container).
  Status Run(const std::atomic<bool>& stop);

  // Handles one session if it is ours and not yet started.
  Status ProcessSession(const std::string& name);
  // Ends sessions of ours left Running by a predecessor.
  Status FailInterrupted();

  std::string HostName() const;
  std::string LeaseName() const;

 private:
  Status ProcessSessionUnguarded(const std::string& name);
  Status FailInterruptedUnguarded();
  bool Matches(const kube::json& session) const;
  Status Skip(const kube::json& session);
  Status Execute(const kube::json& session, const kube::json& bc);
  // Runs the BackupConfiguration's preBackup or postBackup hook, when set
  // (postBackup only when its executionPolicy allows it after `phase`),
  // appending its condition (PreBackupHookExecutionSucceeded, ...) to
  // `conditions`. Returns the failure as Stash words it.
  Status RunHook(const kube::json& bc, const std::string& which, const std::string& phase,
                 kube::json* conditions, int retry_left = 0);
  // Pushes the finished session's metrics (metrics_enabled).
  Status PushSessionMetrics(const std::string& session_name, const kube::json& bc,
                            const kube::json& repository);
  // Runs `work` and, past `deadline`, sets opts_.cancel (stopping the
  // backup process); returns whether the deadline passed.
  bool RunWithDeadline(std::optional<SystemTime> deadline, const std::function<void()>& work);
  Status UpdateRepositoryStatus(const kube::json& repository, const kube::json& session,
                                const kube::json& repo_status);
  void CleanupHistory(const kube::json& bc);
  // The killed predecessor's repository lock (same host, dead process).
  void RemoveStaleLocks();
  // After a 401/403 (`s`): says what was denied — in the log and, once per
  // distinct message, as a Warning event on the BackupConfiguration — and
  // returns how long to wait before trying again (doubling from 2 s to
  // 5 min while denials go on; retrying every 2 s fixes no permission).
  Duration Denied(const Status& s);
  void NotDenied() { denied_wait_ = {}; }

  const kube::Client& client_;
  Clock& clock_;
  BackupRunner& runner_;
  const SidecarOptions opts_;
  const std::atomic<bool>* stop_ = nullptr;  // Run's
  kube::EventRecorder session_events_;
  kube::EventRecorder updater_events_;
  kube::EventRecorder sidecar_events_;
  Duration denied_wait_{};      // the current back-off after denials
  std::string denied_message_;  // the last one reported as an event
};

}  // namespace stash::agent
