// BackupConfigurationController: the operator's reconciler. For every
// BackupConfiguration it validates the spec, finds the Repository, its
// storage Secret and the target workload, injects the `stash` sidecar into
// the workload, keeps the trigger CronJob `stash-trigger-<name>`, and writes
// status.conditions and status.phase. The finalizer `stash.appscode.com`
// lets it remove the sidecar and the CronJob when the BackupConfiguration is
// deleted. It also ends BackupSessions whose BackupConfiguration is missing or
// not Ready as Skipped (with a condition saying why), so none waits forever.
//
// A change to a Repository, Secret, workload or trigger CronJob requeues only
// the BackupConfigurations that refer to it (a namespace with a thousand of
// them must not reconcile all for each one's sidecar injection); failures
// requeue with backoff; everything is resynced every 10 minutes.
//
// Thread-safety: Start/Stop from one thread; Reconcile may be called from
// tests while stopped.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stash/controller/work_queue.h"
#include "stash/core/clock.h"
#include "stash/kube/client.h"
#include "stash/kube/events.h"
#include "stash/kube/informer.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

using json = kube::json;

// Whether a BackupSession failed with retries left and was not retried yet.
bool NeedsRetry(const json& session);
// The session that retries `failed` at `at`: its labels, owner and invoker,
// spec.retryLeft one less, named <invoker>-<unix seconds of at>.
Result<json> RetrySession(const json& failed, SystemTime at);

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

  Status Reconcile(const std::string& ns, const std::string& name);
  Status ReconcileSession(const std::string& ns, const std::string& name);

 private:
  // retryConfig: a Failed session with retries left gets its successor
  // (spec.retryLeft - 1) once retryConfig.delay has passed (session_retry.cc).
  Status ReconcileRetry(const json& session);
  Status Finalize(json bc);
  Status EnsureSidecar(const json& bc, const json& workload, const kube::Resource& r,
                       const json* repository, std::string* message);
  Status EnsureCronJob(const json& bc);
  // rbac.h: the Role/RoleBinding/ServiceAccount of bc's sidecar and trigger;
  // the trigger's alone while the workload is missing (`workload` null): its
  // ticks still run (and are Skipped) as on a cluster.
  Status EnsureBackupRbac(const json& bc, const json* workload, const json* repository);
  // Enqueues the BackupConfigurations of `ns` for which `refers` is true.
  void EnqueueReferring(const std::string& ns, const std::function<bool(const json& bc)>& refers);
  void OnDependency(const kube::Resource& r, const std::string& type, const json& obj);
  void Work();

  const kube::Client& client_;
  Clock& clock_;
  const std::string ns_;
  const std::string image_;
  std::string pushgateway_url_;
  kube::EventRecorder recorder_;
  kube::EventRecorder session_recorder_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;
  kube::Informer* bc_informer_ = nullptr;
  kube::Informer* repo_informer_ = nullptr;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
  std::thread resync_;
};

}  // namespace stash::controller
