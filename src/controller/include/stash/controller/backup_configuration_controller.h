// BackupConfigurationController: the operator's reconciler. For every
// BackupConfiguration it validates the spec, finds the Repository, its
// storage Secret and the target workload, injects the `stash` sidecar into
// the workload, keeps the trigger CronJob `stash-trigger-<name>`, and writes
// status.conditions and status.phase. The finalizer `stash.appscode.com`
// lets it remove the sidecar and the CronJob when the BackupConfiguration is
// deleted. It also ends BackupSessions whose BackupConfiguration is missing or
// not Ready as Skipped (with a condition saying why), so none waits forever.
//
// Reconciles read every object from informer caches (apis::Informer), never
// from a GET; they write through the API and learn the result from the
// watch. A change to a Repository, Secret, workload or trigger CronJob
// requeues only the BackupConfigurations that refer to it (a namespace with a
// thousand of them must not reconcile all for each one's sidecar
// injection); failures requeue with backoff, an object that cannot be
// decoded is reported once and waits for its next change; everything is
// resynced every 10 minutes. Workers start once every cache has listed.
//
// Thread-safety: Start/Stop from one thread. Reconcile and ReconcileSession
// run on the workers; tests may call them after Start while the caches are
// synced().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stash/apis/apps.h"
#include "stash/apis/backup.h"
#include "stash/apis/batch.h"
#include "stash/apis/events.h"
#include "stash/apis/informer.h"
#include "stash/apis/repository.h"
#include "stash/controller/work_queue.h"
#include "stash/core/clock.h"
#include "stash/kube/client.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

// Whether a BackupSession failed with retries left and was not retried yet.
bool NeedsRetry(const apis::BackupSession& session);
// The session that retries `failed` at `at`: its labels, owner and invoker,
// spec.retryLeft one less, named <invoker>-<unix seconds of at>.
Result<apis::BackupSession> RetrySession(const apis::BackupSession& failed, SystemTime at);

class BackupConfigurationController {
 public:
  // `ns` empty watches all namespaces; `image` goes into sidecars and
  // trigger CronJobs.
  BackupConfigurationController(const kube::Client& client, Clock& clock, std::string ns = "",
                                std::string image = std::string(kube::kStashImage));
  ~BackupConfigurationController();

  // Reports the work queue's metrics (workqueue_*{name="backupconfiguration"})
  // to `metrics`, which outlives the controller. Call before Start.
  void Instrument(MetricsRegistry* metrics) { queue_.Instrument(metrics, "backupconfiguration"); }
  // Sidecars push each session's metrics to this pushgateway (`stash
  // operator --pushgateway-url`). Call before Start.
  void SetPushgateway(std::string url) { pushgateway_url_ = std::move(url); }

  void Start();
  void Stop();
  // True once every cache has listed.
  bool synced() const;

  Status Reconcile(const std::string& ns, const std::string& name);
  Status ReconcileSession(const std::string& ns, const std::string& name);

 private:
  // Deletes `bc`'s sessions beyond its backupHistoryLimit after the
  // operator skipped `newest` (ticks of a missing target, of an invalid
  // BackupConfiguration): the sidecar, which prunes after its own sessions,
  // may not run at all then.
  void PruneHistory(const apis::BackupConfiguration& bc, const apis::BackupSession& newest);
  // retryConfig: a Failed session with retries left gets its successor
  // (spec.retryLeft - 1) once retryConfig.delay has passed (session_retry.cc).
  Status ReconcileRetry(const apis::BackupSession& session);
  struct Caches;
  struct Pass;  // one reconcile's conditions and first transient error
  std::unique_ptr<Caches> MakeCaches();
  Status EnsureFinalizer(apis::BackupConfiguration* bc);
  std::shared_ptr<const apis::Repository> CheckRepository(Pass& pass);
  void CheckTarget(Pass& pass);
  void EnsureSidecar(Pass& pass, const apis::Repository* repository);
  // rbac.h: the Role/RoleBinding/ServiceAccount of bc's sidecar and trigger;
  // the trigger's alone while the workload is missing (pass.workload empty):
  // its ticks still run (and are Skipped) as on a cluster.
  Status EnsureBackupRbac(const Pass& pass, const apis::Repository* repository);
  void EnsureTrigger(Pass& pass, bool valid);
  Status WriteStatus(const Pass& pass);
  Status Finalize(const apis::BackupConfiguration& bc);
  Status EnsureCronJob(const apis::BackupConfiguration& bc);
  // Enqueues the BackupConfigurations of `ns` for which `refers` is true.
  void EnqueueReferring(const std::string& ns,
                        const std::function<bool(const apis::BackupConfiguration&)>& refers);
  void Work();

  const kube::Client& client_;
  Clock& clock_;
  const std::string ns_;
  const std::string image_;
  std::string pushgateway_url_;
  apis::EventRecorder recorder_;
  apis::EventRecorder session_recorder_;
  WorkQueue queue_;
  std::unique_ptr<Caches> caches_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
  std::thread resync_;
  std::atomic<bool> resync_exited_{false};
};

}  // namespace stash::controller
