// StashMetricsCollector: keeps Stash's Prometheus metrics (apis/metrics.h)
// current from the cluster's objects, for the operator's /metrics: each
// completed BackupSession sets its invoker's session, target and host series
// (only a session newer than the one already reported moves them; the
// last-success time keeps the latest succeeded one even after history
// cleanup deleted it); a Repository's status sets the repository series of
// every BackupConfiguration using it; a completed RestoreSession its restore
// series. A deleted BackupConfiguration or RestoreSession takes its series
// with it.
//
//   StashMetricsCollector metrics(client, clock);
//   metrics.Start();                       // informers on all namespaces
//   std::string text = metrics.Exposition();
//
// Thread-safety: Start/Stop from one thread; Exposition from any. Handlers
// run on the informers' threads and serialise on one mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "stash/apis/backup.h"
#include "stash/apis/informer.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
#include "stash/core/clock.h"
#include "stash/core/metrics.h"

namespace stash::controller {

class StashMetricsCollector {
 public:
  // `user_labels`: added to every series (Stash's --metrics-labels).
  StashMetricsCollector(const kube::Client& client, Clock& clock, MetricLabels user_labels = {});
  ~StashMetricsCollector();

  void Start();
  void Stop();
  bool synced() const;

  std::string Exposition() const { return registry_.Exposition(); }

  // The updates the informers drive, callable directly (tests).
  void OnBackupSession(const apis::BackupSession& session);
  void OnBackupConfiguration(const std::string& type, const apis::BackupConfiguration& bc);
  void OnRepository(const apis::Repository& repo);
  void OnRestoreSession(const std::string& type, const apis::RestoreSession& rs);

 private:
  void ApplySessionLocked(const apis::BackupConfiguration& bc, const apis::BackupSession& s);
  void ApplyRepositoryLocked(const apis::BackupConfiguration& bc, const apis::Repository& repo);

  MetricsRegistry registry_;
  const MetricLabels user_labels_;
  std::mutex mu_;
  // invoker key "<ns>/<name>" → creationTimestamp of the session reported.
  std::map<std::string, std::string> reported_;
  std::unique_ptr<apis::Informer<apis::BackupConfiguration>> configs_;
  std::unique_ptr<apis::Informer<apis::BackupSession>> sessions_;
  std::unique_ptr<apis::Informer<apis::Repository>> repositories_;
  std::unique_ptr<apis::Informer<apis::RestoreSession>> restores_;
};

}  // namespace stash::controller
