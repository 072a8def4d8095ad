// The decoded informer caches BackupConfigurationController reconciles
// from (private to the controller's .cc files).
//
// Thread-safety: as apis::Informer.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "stash/apis/apps.h"
#include "stash/apis/backup.h"
#include "stash/apis/batch.h"
#include "stash/apis/core.h"
#include "stash/apis/informer.h"
#include "stash/apis/repository.h"
#include "stash/controller/backup_configuration_controller.h"

namespace stash::controller {

// The target workload a reconcile found (monostate: none).
using WorkloadPtr =
    std::variant<std::monostate, std::shared_ptr<const apis::Deployment>,
                 std::shared_ptr<const apis::StatefulSet>, std::shared_ptr<const apis::DaemonSet>>;

struct BackupConfigurationController::Caches {
  template <class T>
  using Handler = typename apis::Informer<T>::Handler;

  Caches(const kube::Client& c, Clock& clock, const std::string& ns,
         Handler<apis::BackupConfiguration> on_bc, Handler<apis::BackupSession> on_session,
         Handler<apis::Repository> on_repo, Handler<apis::Secret> on_secret,
         Handler<apis::Deployment> on_deploy, Handler<apis::StatefulSet> on_sts,
         Handler<apis::DaemonSet> on_ds, Handler<apis::CronJob> on_cronjob)
      : bcs(c, ns, {}, clock, std::move(on_bc)),
        sessions(c, ns, {}, clock, std::move(on_session)),
        repos(c, ns, {}, clock, std::move(on_repo)),
        secrets(c, ns, {}, clock, std::move(on_secret)),
        deployments(c, ns, {}, clock, std::move(on_deploy)),
        statefulsets(c, ns, {}, clock, std::move(on_sts)),
        daemonsets(c, ns, {}, clock, std::move(on_ds)),
        cronjobs(c, ns, {}, clock, std::move(on_cronjob)) {}

  template <class F>
  void Each(F&& f) {
    f(bcs), f(sessions), f(repos), f(secrets), f(deployments), f(statefulsets), f(daemonsets),
        f(cronjobs);
  }
  bool synced() {
    bool all = true;
    Each([&](const auto& inf) { all = all && inf.synced(); });
    return all;
  }

  // The cached target of `kind`; kUnsupported for a kind that is not a workload.
  Result<WorkloadPtr> Workload(const std::string& kind, const std::string& ns,
                               const std::string& name) const {
    auto wrap = [](auto r) -> Result<WorkloadPtr> {
      if (!r.ok()) return r.status();
      return WorkloadPtr(*r);
    };
    if (kind == "Deployment") return wrap(deployments.Get(ns, name));
    if (kind == "StatefulSet") return wrap(statefulsets.Get(ns, name));
    if (kind == "DaemonSet") return wrap(daemonsets.Get(ns, name));
    return kube::WorkloadResource(kind).status();
  }

  apis::Informer<apis::BackupConfiguration> bcs;
  apis::Informer<apis::BackupSession> sessions;
  apis::Informer<apis::Repository> repos;
  apis::Informer<apis::Secret> secrets;
  apis::Informer<apis::Deployment> deployments;
  apis::Informer<apis::StatefulSet> statefulsets;
  apis::Informer<apis::DaemonSet> daemonsets;
  apis::Informer<apis::CronJob> cronjobs;
};

}  // namespace stash::controller
