// BackupSidecar: `stash run-backup`, the container the operator injects into
// a workload. For a Deployment, holding the Lease
// `lock-backupconfiguration-<name>-backup` so only one replica acts (its
// replicas share one volume: host-0), it follows the BackupSessions of its
// BackupConfiguration (and the BackupConfiguration itself) through informer
// caches and runs each new session: Skipped (with the guide's Warning event)
// when the BackupConfiguration is paused; otherwise it claims the session
// (Running, conditional on the version it saw, so no session runs twice),
// runs the preBackup hook (its failure fails the session, nothing backed up),
// opens the repository once through the BackupRunner (initialising it if
// new), backs up each path (status.progress every few seconds), applies the
// retention policy, checks and sizes the repository, runs the postBackup hook
// (as its executionPolicy says) and ends Succeeded or Failed with
// sessionDuration and per-host stats; then the Repository's status, the
// session's metrics pushed to a pushgateway (--metrics-enabled), events and
// the backupHistoryLimit cleanup. With spec.timeOut, a session still running
// at creationTimestamp + timeOut (status.sessionDeadline) has its backup
// stopped and ends Failed with the DeadlineExceeded condition.
//
// A session found Running when the sidecar starts was cut off by a crash or
// kill; it ends Failed (BackupDisrupted) instead of staying Running forever,
// and the stale repository lock of the killed backup is removed.
//
// For a StatefulSet or a DaemonSet every replica's sidecar acts, without a
// Lease: each backs up its own volume as its own host (host-<ordinal>, or
// the node's name; `<alias>-<ordinal>`/`<alias>-<node>` with a target
// alias) and merges its entry into status.targets[].stats (host_status.h).
// The first sets the session Running with totalHosts (the StatefulSet's
// spec.replicas, the DaemonSet's desiredNumberScheduled); the host whose
// report completes the set applies the retention policy (per host and
// paths, as restic's forget groups), checks and sizes the repository, and
// ends the session Succeeded, or Failed when any host failed. A session
// found Running at start that lacks this host is backed up (as Stash's
// sidecar does), not failed.
//
// Thread-safety: Run on one thread; the object is not otherwise shared.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "stash/agent/authorized.h"  // kSidecarAuthorizedCondition
#include "stash/agent/backup_runner.h"
#include "stash/agent/pods.h"  // kSidecarNotReadyFile
#include "stash/agent/repository.h"
#include "stash/apis/backup.h"
#include "stash/apis/events.h"
#include "stash/core/clock.h"
#include "stash/core/metrics.h"
#include "stash/kube/client.h"

namespace stash::agent {

class LeaderLease;

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
  // While the sidecar is denied by the API server, this file says why and
  // its readinessProbe (SidecarReadiness) fails (pods.h kNotReadyFileEnv).
  std::string not_ready_file = kSidecarNotReadyFile;
  // How long each watch of its caches lasts before it is renewed (0: the
  // informer's 300 s): a Role that lost its list/watch rule is met there.
  int watch_timeout_seconds = 0;
  bool metrics_enabled = false;
  std::string pushgateway_url;
  MetricLabels metrics_labels;
};

class BackupSidecar {
 public:
  BackupSidecar(const kube::Client& client, Clock& clock, BackupRunner& runner,
                SidecarOptions opts);
  ~BackupSidecar();

  // Until `stop`; returns an error when leadership is lost (the runtime
  // restarts the container).
  Status Run(const std::atomic<bool>& stop);

  // host-0, host-<ordinal> of a StatefulSet pod, or the node of a DaemonSet;
  // with a target `alias`: the alias, <alias>-<ordinal> or <alias>-<node>.
  std::string HostName(const std::string& alias = "") const;
  // Whether each replica backs up its own host (StatefulSet, DaemonSet).
  bool PerReplica() const;
  std::string LeaseName() const;

 private:
  struct Caches;
  struct Queue;
  struct Outcome;

  bool Matches(const apis::BackupSession& session) const;
  // Whether `session` may have work for this sidecar: new (Pending), or,
  // per replica, Running (ProcessSession checks for this host's entry).
  bool Wanted(const apis::BackupSession& session) const;
  // Until the Lease is held (Deployment); false when stopped first.
  bool AcquireLease(LeaderLease& lease, const std::atomic<bool>& stop);
  // Until listing the sessions and the BackupConfiguration is allowed (each
  // denial reported by Denied); false when stopped first.
  bool WaitForAccess(const std::atomic<bool>& stop);
  Status StartCaches(const std::atomic<bool>& stop);
  Status ProcessSession(const std::string& name);
  Status FailInterrupted();
  // Each returns the session as it ended.
  Result<apis::BackupSession> Skip(const apis::BackupSession& session);
  Result<apis::BackupSession> Execute(const apis::BackupSession& session,
                                      const apis::BackupConfiguration& bc);
  // The steps of a backup; each runs only while everything before it succeeded.
  void RunSteps(const apis::BackupConfiguration& bc, const apis::BackupSession& session,
                const std::string& host, Outcome* out);
  // Writes status.progress of `session` while it runs.
  void BackupPaths(RepositorySession& repo, const apis::BackupConfiguration& bc,
                   const apis::BackupSession& session, const std::string& host, Outcome* out);
  void AfterBackup(RepositorySession& repo, const apis::BackupConfiguration& bc, Outcome* out);
  // Per replica: sets the session Running with totalHosts (unless another
  // host did); nullopt when the session has nothing left for this host.
  Result<std::optional<apis::BackupSession>> ClaimHost(const apis::BackupSession& session,
                                                       const apis::BackupConfiguration& bc,
                                                       const std::string& host,
                                                       const std::string& deadline);
  // The number of hosts of the target: the StatefulSet's replicas, the
  // DaemonSet's scheduled pods.
  Result<int32_t> TotalHosts(const apis::TargetRef& ref);
  // Per replica: merges this host's stats into the session; the host that
  // completes the set runs the post-backup actions and ends the session.
  Result<apis::BackupSession> ReportHost(const apis::BackupConfiguration& bc,
                                         const apis::BackupSession& session, Outcome& out,
                                         SystemTime start, const std::string& host);
  Result<apis::BackupSession> Report(const apis::BackupConfiguration& bc,
                                     const apis::BackupSession& session,
                                     const apis::BackupTargetStatus& target, const Outcome& out,
                                     SystemTime start, const std::string& host);
  // The repository of `bc` and where it is: fetched fresh, since a password
  // change must apply to the next backup.
  Result<RepoTarget> ResolveTarget(const apis::BackupConfiguration& bc,
                                   apis::Repository* repository);
  Status UpdateRepositoryStatus(const apis::Repository& repository,
                                const apis::BackupSession& session,
                                const apis::RepositoryStatus& status);
  // Deletes finished sessions beyond backupHistoryLimit; `done` is the one
  // just ended (the cache may not show that yet).
  void CleanupHistory(const apis::BackupConfiguration& bc, const apis::BackupSession& done);
  // Runs the BackupConfiguration's preBackup or postBackup hook, when set
  // (postBackup only when its executionPolicy allows it after `phase`),
  // appending its condition (PreBackupHookExecutionSucceeded, ...) to
  // `conditions`. Returns the failure as Stash words it.
  Status RunHook(const apis::BackupConfiguration& bc, bool pre, const std::string& phase,
                 std::vector<apis::Condition>* conditions, int retry_left = 0);
  // Pushes the finished session's metrics (metrics_enabled).
  Status PushSessionMetrics(const apis::BackupConfiguration& bc, const apis::BackupSession& session,
                            const apis::Repository* repository);
  // Stash's "Host Backup Succeeded/Failed" event on `session` for `host`
  // (`failure` ok: succeeded).
  void RecordHostEvent(const apis::BackupSession& session, const std::string& host,
                       const Status& failure);
  // Runs `work` and, past `deadline`, sets opts_.cancel (stopping the
  // backup); returns whether the deadline passed.
  bool RunWithDeadline(std::optional<SystemTime> deadline, const std::function<void()>& work);
  // The killed predecessor's repository lock (same host, dead process).
  void RemoveStaleLocks();
  // After a 401/403 (`s`): says what was denied — in the log and, once per
  // distinct message, as a Warning event on the BackupConfiguration — and
  // returns how long to wait before trying again (doubling from 2 s to
  // 5 min while denials go on; retrying every 2 s fixes no permission).
  // It also sets kSidecarAuthorizedCondition False on the BackupConfiguration
  // (naming what was denied) and the container not Ready.
  Duration Denied(const Status& s);
  // After a call that worked: the back-off is reset, the container Ready,
  // and a False kSidecarAuthorizedCondition set True (checked once at start,
  // then after denials only).
  void NotDenied();
  // The node's readiness signal (SidecarOptions::not_ready_file).
  void SetReady(bool ready, const std::string& why);
  // Sets kSidecarAuthorizedCondition: False with `denial`'s message, or
  // True (only where it is False: a sidecar that was never denied adds no
  // condition). Needs backupconfigurations/status patch (the Role grants it).
  Status WriteAuthorized(const Status* denial);
  // A 401/403 the caches' list/watch retries meet (after the start: the
  // Role lost a rule), or OK.
  Status CachesDenied() const;

  const kube::Client& client_;
  Clock& clock_;
  BackupRunner& runner_;
  const SidecarOptions opts_;
  const std::atomic<bool>* stop_ = nullptr;  // Run's
  apis::EventRecorder session_events_;
  apis::EventRecorder updater_events_;
  apis::EventRecorder sidecar_events_;
  std::unique_ptr<Queue> queue_;
  std::unique_ptr<Caches> caches_;
  Duration denied_wait_{};         // the current back-off after denials
  std::string denied_message_;     // the last one reported (event and condition)
  bool authorized_known_ = false;  // the condition was checked since the last denial
};

// The sidecar's readinessProbe (`stash sidecar-ready`): OK unless the
// sidecar wrote `not_ready_file`; then Unavailable with what it wrote (the
// denied call), which kubelet shows in the pod's Unhealthy event.
Status SidecarReadiness(const std::string& not_ready_file);

}  // namespace stash::agent
