#include "stash/controller/stash_metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "stash/apis/metrics.h"

namespace stash::controller {

namespace {

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

// Orders sessions of one invoker: creation time, then name.
std::string Order(const apis::BackupSession& s) {
  return s.metadata.creation_timestamp + "/" + s.metadata.name;
}

std::string RepoNamespace(const apis::BackupConfiguration& bc) {
  return bc.spec.repository.namespace_.empty() ? bc.metadata.namespace_
                                               : bc.spec.repository.namespace_;
}

}  // namespace

StashMetricsCollector::StashMetricsCollector(const kube::Client& client, Clock& clock,
                                             MetricLabels user_labels)
    : user_labels_(std::move(user_labels)) {
  configs_ = std::make_unique<apis::Informer<apis::BackupConfiguration>>(
      client, "", kube::ListOptions{}, clock,
      [this](const std::string& type, const apis::BackupConfiguration& bc) {
        OnBackupConfiguration(type, bc);
      });
  sessions_ = std::make_unique<apis::Informer<apis::BackupSession>>(
      client, "", kube::ListOptions{}, clock,
      [this](const std::string& type, const apis::BackupSession& s) {
        if (type != "DELETED") OnBackupSession(s);
      });
  repositories_ = std::make_unique<apis::Informer<apis::Repository>>(
      client, "", kube::ListOptions{}, clock,
      [this](const std::string& type, const apis::Repository& r) {
        if (type != "DELETED") OnRepository(r);
      });
  restores_ = std::make_unique<apis::Informer<apis::RestoreSession>>(
      client, "", kube::ListOptions{}, clock,
      [this](const std::string& type, const apis::RestoreSession& rs) {
        OnRestoreSession(type, rs);
      });
}

StashMetricsCollector::~StashMetricsCollector() { Stop(); }

void StashMetricsCollector::Start() {
  configs_->Start();
  repositories_->Start();
  sessions_->Start();
  restores_->Start();
}

void StashMetricsCollector::Stop() {
  restores_->Stop();
  sessions_->Stop();
  repositories_->Stop();
  configs_->Stop();
}

bool StashMetricsCollector::synced() const {
  return configs_->synced() && sessions_->synced() && repositories_->synced() &&
         restores_->synced();
}

void StashMetricsCollector::OnBackupSession(const apis::BackupSession& s) {
  if (s.status.phase != "Succeeded" && s.status.phase != "Failed") return;
  if (!s.spec.invoker.kind.empty() && s.spec.invoker.kind != "BackupConfiguration") return;
  auto bc = configs_->Get(s.metadata.namespace_, s.spec.invoker.name);
  if (!bc.ok()) return;  // reported when its BackupConfiguration arrives
  std::lock_guard lock(mu_);
  ApplySessionLocked(**bc, s);
}

void StashMetricsCollector::ApplySessionLocked(const apis::BackupConfiguration& bc,
                                               const apis::BackupSession& s) {
  const std::string key = Key(bc.metadata.namespace_, bc.metadata.name);
  std::string& last = reported_[key];
  if (!last.empty() && Order(s) <= last) return;  // an older session: the gauges stay
  last = Order(s);
  Status st = apis::SetBackupSessionFamilies(registry_, bc, s, user_labels_);
  if (!st.ok()) {
    spdlog::warn("metrics of BackupSession {}/{}: {}", s.metadata.namespace_, s.metadata.name,
                 st.message());
  }
  if (bc.spec.driver != "VolumeSnapshotter") {
    auto repo = repositories_->Get(RepoNamespace(bc), bc.spec.repository.name);
    if (repo.ok()) ApplyRepositoryLocked(bc, **repo);
  }
}

void StashMetricsCollector::ApplyRepositoryLocked(const apis::BackupConfiguration& bc,
                                                  const apis::Repository& repo) {
  if (repo.status.last_backup_time.empty() && !repo.status.snapshot_count) return;
  const MetricLabels labels =
      apis::UpsertLabels(apis::BackupInvokerLabels("BackupConfiguration", bc, user_labels_),
                         apis::RepositoryLabels(repo));
  Status st = apis::SetRepositoryMetrics(registry_, labels, repo.status);
  if (!st.ok()) {
    spdlog::warn("metrics of Repository {}/{}: {}", repo.metadata.namespace_, repo.metadata.name,
                 st.message());
  }
}

void StashMetricsCollector::OnBackupConfiguration(const std::string& type,
                                                  const apis::BackupConfiguration& bc) {
  if (type == "DELETED") {
    std::lock_guard lock(mu_);
    reported_.erase(Key(bc.metadata.namespace_, bc.metadata.name));
    registry_.RemoveMatching({{"invoker_kind", "BackupConfiguration"},
                              {"invoker_name", bc.metadata.name},
                              {"namespace", bc.metadata.namespace_}});
    registry_.RemoveMatching({{"invoker_kind", "BackupConfiguration"},
                              {"invoker_name", bc.metadata.name},
                              {"repository", bc.spec.repository.name},
                              {"namespace", RepoNamespace(bc)}});
    return;
  }
  if (type != "ADDED") return;
  // Sessions that completed before the BackupConfiguration was cached.
  std::vector<std::shared_ptr<const apis::BackupSession>> mine;
  sessions_->ForEach([&](const apis::BackupSession& s) {
    if (s.metadata.namespace_ == bc.metadata.namespace_ &&
        s.spec.invoker.name == bc.metadata.name && apis::IsFinalPhase(s.status.phase)) {
      mine.push_back(std::make_shared<const apis::BackupSession>(s));
    }
  });
  std::sort(mine.begin(), mine.end(),
            [](const auto& a, const auto& b) { return Order(*a) < Order(*b); });
  std::lock_guard lock(mu_);
  for (const auto& s : mine) {
    if (s->status.phase == "Succeeded" || s->status.phase == "Failed") ApplySessionLocked(bc, *s);
  }
}

void StashMetricsCollector::OnRepository(const apis::Repository& repo) {
  std::vector<std::shared_ptr<const apis::BackupConfiguration>> users;
  configs_->ForEach([&](const apis::BackupConfiguration& bc) {
    if (bc.spec.repository.name == repo.metadata.name &&
        RepoNamespace(bc) == repo.metadata.namespace_) {
      users.push_back(std::make_shared<const apis::BackupConfiguration>(bc));
    }
  });
  std::lock_guard lock(mu_);
  for (const auto& bc : users) ApplyRepositoryLocked(*bc, repo);
}

void StashMetricsCollector::OnRestoreSession(const std::string& type,
                                             const apis::RestoreSession& rs) {
  const MetricLabels invoker = apis::RestoreInvokerLabels(rs, user_labels_);
  std::lock_guard lock(mu_);
  if (type == "DELETED") {
    registry_.RemoveMatching({{"invoker_kind", "RestoreSession"},
                              {"invoker_name", rs.metadata.name},
                              {"namespace", rs.metadata.namespace_}});
    return;
  }
  if (rs.status.phase != "Succeeded" && rs.status.phase != "Failed" &&
      rs.status.phase != "Unknown") {
    return;
  }
  apis::SetRestoreSessionMetrics(registry_, invoker, rs);
}

}  // namespace stash::controller
