// RestoreSessionController: the operator's reconciler of RestoreSessions
// (events from source `RestoreSession Controller`; stash-api.md §1.5, §4):
//  - validation (restore_session.h; the Repository and its storage Secret
//    exist) → phase Invalid with the condition that names the problem,
//    re-checked when the session, its Repository or Secret change;
//  - target missing → Pending (RestoreTargetFound False) until it appears;
//    another RestoreSession still restoring the same workload → Pending;
//  - init-container mode (Deployment, StatefulSet, DaemonSet): `stash-init`
//    prepended to the pod template (the pods roll and restore before their
//    containers start); Job mode (a claim, or volumeClaimTemplates): claims
//    created, one restore Job per host. Then Running with totalHosts and, with
//    timeOut, sessionDeadline;
//  - the hosts' stats (written by `stash run-restore`) end it: Succeeded,
//    Failed or Unknown with sessionDuration and RestoreCompleted; a Job that
//    gave up, a deleted target or the deadline fail the hosts still open;
//  - deleting it (finalizer `stash.appscode.com`) removes the init container
//    (pods roll back) and the Jobs; restored claims stay.
// Status writes are conditional on the resourceVersion, so the hosts' stats,
// written concurrently, are never lost.
//
// Thread-safety: Start/Stop from one thread; Reconcile may be called from
// tests while stopped.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stash/apis/apps.h"
#include "stash/apis/batch.h"
#include "stash/apis/events.h"
#include "stash/apis/informer.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
#include "stash/controller/work_queue.h"
#include "stash/core/clock.h"
#include "stash/kube/client.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

class RestoreSessionController {
 public:
  // `ns` empty watches all namespaces; `image` is stash's, for the init
  // containers and Jobs.
  RestoreSessionController(const kube::Client& client, Clock& clock, std::string ns = "",
                           std::string image = std::string(kube::kStashImage));
  ~RestoreSessionController();

  // Reports the work queue's metrics (workqueue_*{name="restoresession"}) to
  // `metrics`, which outlives the controller. Call before Start.
  void Instrument(MetricsRegistry* metrics) { queue_.Instrument(metrics, "restoresession"); }

  void Start();
  void Stop();

  Status Reconcile(const std::string& ns, const std::string& name);

 private:
  struct Target;
  Status Finalize(const apis::RestoreSession& session);
  // Validation, Repository and Secret; false when the session is not valid
  // (status already set).
  Result<bool> Validate(const apis::RestoreSession& session, apis::RestoreSessionStatus* status,
                        apis::Repository* repository);
  Status Start(const apis::RestoreSession& session, const apis::Repository& repository,
               apis::RestoreSessionStatus* status);
  Status StartInitContainer(const apis::RestoreSession& session, const apis::Repository& repository,
                            apis::RestoreSessionStatus* status);
  // rbac.h: the Role/RoleBinding/ServiceAccount of the restore's pods.
  Status EnsureRestoreRbac(const apis::RestoreSession& session, const apis::Repository& repository,
                           const apis::Workload* workload);
  Status StartJobs(const apis::RestoreSession& session, const apis::Repository& repository,
                   apis::RestoreSessionStatus* status);
  // While Running: ends the session when its hosts are done, its Jobs gave
  // up, its target is gone or its deadline passed.
  Status Progress(const apis::RestoreSession& session, apis::RestoreSessionStatus* status);
  Status WriteStatus(const apis::RestoreSession& session, const apis::RestoreSessionStatus& status);
  // Enqueues the sessions of `ns` for which `refers` holds.
  void EnqueueIf(const std::string& ns,
                 const std::function<bool(const apis::RestoreSession&)>& refers);
  void Work();

  const kube::Client& client_;
  Clock& clock_;
  const std::string ns_;
  const std::string image_;
  apis::EventRecorder events_;
  WorkQueue queue_;
  std::unique_ptr<apis::Informer<apis::RestoreSession>> sessions_;
  std::unique_ptr<apis::Informer<apis::Repository>> repositories_;
  std::unique_ptr<apis::Informer<apis::Deployment>> deployments_;
  std::unique_ptr<apis::Informer<apis::StatefulSet>> statefulsets_;
  std::unique_ptr<apis::Informer<apis::DaemonSet>> daemonsets_;
  std::unique_ptr<apis::Informer<apis::Job>> jobs_;
  std::unique_ptr<apis::Informer<apis::PersistentVolumeClaim>> claims_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace stash::controller
