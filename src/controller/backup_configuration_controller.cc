#include "stash/controller/backup_configuration_controller.h"

#include <spdlog/spdlog.h>

#include <set>
#include <variant>

#include "backup_configuration_caches.h"
#include "stash/apis/client.h"
#include "stash/controller/invoker.h"
#include "stash/controller/rbac.h"
#include "stash/controller/validation.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

using apis::BackupConfiguration;
using apis::BackupSession;
using apis::CronJob;
using apis::DaemonSet;
using apis::Deployment;
using apis::json;
using apis::Repository;
using apis::Secret;
using apis::StatefulSet;

std::string S(std::string_view v) { return std::string(v); }

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// The namespace a reference names, defaulting to the referrer's.
std::string NsOr(const std::string& ns, const std::string& fallback) {
  return ns.empty() ? fallback : ns;
}

RbacOwner RbacOwnerOf(const BackupConfiguration& bc) {
  return {bc.api_version.empty() ? kube::res::kBackupConfigurations.ApiVersion() : bc.api_version,
          "BackupConfiguration", bc.metadata.namespace_, bc.metadata.name, bc.metadata.uid};
}

}  // namespace

// What one reconcile of a BackupConfiguration has found so far.
struct BackupConfigurationController::Pass {
  BackupConfiguration bc;
  std::vector<apis::Condition> conditions;
  SystemTime now;
  int64_t gen = 1;
  Status transient;  // the first error worth a retry
  WorkloadPtr workload;
  std::string target_id;  // "apps/v1 Deployment demo/web"

  void Set(std::string_view type, bool ok, std::string_view reason, const std::string& message) {
    apis::SetCondition(&conditions, type, ok, reason, message, now, gen);
  }
  void Retry(const Status& s) {
    if (transient.ok()) transient = s;
  }
};

namespace {

// A change of status alone (the generation already observed, no deletion):
// a workload's pods becoming Ready, the operator's own status write, a
// sidecar's condition. None changes what a reconcile does, and at scale
// they are most of the watch's events (every readiness flip of every
// replica), so they requeue nothing; drift of what the operator made is
// repaired by the next change or the periodic resync.
bool StatusOnly(const std::string& type, const apis::ObjectMeta& meta, int64_t observed) {
  return type == "MODIFIED" && meta.deletion_timestamp.empty() && meta.generation != 0 &&
         meta.generation == observed;
}

}  // namespace

BackupConfigurationController::BackupConfigurationController(const kube::Client& client,
                                                             Clock& clock, std::string ns,
                                                             std::string image)
    : client_(client),
      clock_(clock),
      ns_(std::move(ns)),
      image_(std::move(image)),
      recorder_(client, clock, S(kube::kSourceBackupConfigurationController)),
      session_recorder_(client, clock, S(kube::kSourceBackupSessionController)),
      queue_(clock) {}

BackupConfigurationController::~BackupConfigurationController() { Stop(); }

void BackupConfigurationController::EnqueueReferring(
    const std::string& ns, const std::function<bool(const BackupConfiguration&)>& refers) {
  std::vector<std::string> keys;
  caches_->bcs.ForEach([&](const BackupConfiguration& bc) {
    if (bc.metadata.namespace_ == ns && refers(bc)) keys.push_back("bc:" + bc.metadata.Key());
  });
  for (const auto& k : keys) queue_.Add(k);
}

// The caches, each with its handler: what a change to that kind of object
// requeues.
std::unique_ptr<BackupConfigurationController::Caches> BackupConfigurationController::MakeCaches() {
  auto on_bc = [this](const std::string& type, const BackupConfiguration& bc) {
    if (StatusOnly(type, bc.metadata, bc.status.observed_generation)) return;
    queue_.Add("bc:" + bc.metadata.Key());
  };
  auto on_session = [this](const std::string& type, const BackupSession& bs) {
    if (type != "DELETED" && (bs.status.phase.empty() || NeedsRetry(bs))) {
      queue_.Add("bs:" + bs.metadata.Key());
    }
  };
  auto on_repo = [this](const std::string&, const Repository& repo) {
    const std::string& ns = repo.metadata.namespace_;
    EnqueueReferring(ns, [&](const BackupConfiguration& bc) {
      return bc.spec.repository.name == repo.metadata.name &&
             NsOr(bc.spec.repository.namespace_, ns) == ns;
    });
  };
  auto on_secret = [this](const std::string&, const Secret& secret) {
    // Secret → the Repositories that use it → their BackupConfigurations.
    const std::string& ns = secret.metadata.namespace_;
    std::set<std::string> repos;
    caches_->repos.ForEach([&](const Repository& repo) {
      if (repo.metadata.namespace_ == ns &&
          repo.spec.backend.storage_secret_name == secret.metadata.name) {
        repos.insert(repo.metadata.name);
      }
    });
    if (repos.empty()) return;
    EnqueueReferring(ns, [&](const BackupConfiguration& bc) {
      return repos.count(bc.spec.repository.name) > 0;
    });
  };
  auto on_workload = [this](const std::string& kind, const apis::ObjectMeta& meta) {
    EnqueueReferring(meta.namespace_, [&](const BackupConfiguration& bc) {
      return bc.spec.target && bc.spec.target->ref.kind == kind &&
             bc.spec.target->ref.name == meta.name;
    });
  };
  auto on_cronjob = [this](const std::string& type, const CronJob& cj) {
    if (type != "DELETED") return;  // ours to recreate; other changes are our own writes
    EnqueueReferring(cj.metadata.namespace_, [&](const BackupConfiguration& bc) {
      return TriggerCronJobName(bc.metadata.name) == cj.metadata.name;
    });
  };
  return std::make_unique<Caches>(
      client_, clock_, ns_, on_bc, on_session, on_repo, on_secret,
      [=](const std::string& type, const Deployment& d) {
        if (!StatusOnly(type, d.metadata, d.status.observed_generation)) {
          on_workload("Deployment", d.metadata);
        }
      },
      [=](const std::string& type, const StatefulSet& s) {
        if (!StatusOnly(type, s.metadata, s.status.observed_generation)) {
          on_workload("StatefulSet", s.metadata);
        }
      },
      [=](const std::string& type, const DaemonSet& d) {
        if (!StatusOnly(type, d.metadata, d.status.observed_generation)) {
          on_workload("DaemonSet", d.metadata);
        }
      },
      on_cronjob);
}

void BackupConfigurationController::Start() {
  stop_ = false;
  caches_ = MakeCaches();
  caches_->Each([](auto& inf) { inf.Start(); });
  // A few workers: a reconcile mostly waits on the API server, and a
  // thousand BackupConfigurations created at once should not queue behind one.
  for (int i = 0; i < 4; ++i) workers_.emplace_back([this] { Work(); });
  resync_exited_ = false;
  resync_ = std::thread([this] {
    while (kube::SleepUnlessStopped(clock_, std::chrono::minutes(10), stop_)) {
      std::vector<std::string> keys;
      caches_->bcs.ForEach(
          [&](const BackupConfiguration& bc) { keys.push_back("bc:" + bc.metadata.Key()); });
      for (const auto& k : keys) queue_.Add(k);
    }
    resync_exited_ = true;
  });
}

void BackupConfigurationController::Stop() {
  stop_ = true;
  queue_.Wake();
  for (auto& w : workers_) w.join();
  workers_.clear();
  kube::JoinWaking(clock_, resync_, resync_exited_);
  if (caches_) {
    caches_->Each([](auto& inf) { inf.RequestStop(); });  // their watches end together
    caches_->Each([](auto& inf) { inf.Stop(); });
  }
  caches_.reset();
}

bool BackupConfigurationController::synced() const { return caches_ && caches_->synced(); }

void BackupConfigurationController::Work() {
  // Before every cache has listed, a missing Repository or workload may only
  // be not seen yet; reconciling then would write wrong conditions.
  if (!queue_.WaitUntil([this] { return synced(); }, stop_)) return;
  while (auto key = queue_.Get(stop_)) {
    const std::string kind = key->substr(0, 2), rest = key->substr(3);
    const size_t slash = rest.find('/');
    const std::string ns = rest.substr(0, slash), name = rest.substr(slash + 1);
    Status s = kind == "bc" ? Reconcile(ns, name) : ReconcileSession(ns, name);
    if (s.ok()) {
      queue_.Forget(*key);
    } else if (s.code() == Code::kInvalid) {
      // A malformed object or a write the server refuses: retrying cannot
      // help; its next change brings it back.
      spdlog::warn("reconciling {}: {}", *key, s.ToString());
      queue_.Forget(*key);
    } else if (s.code() == Code::kConflict) {
      // Our cache was behind the server (a status written against a version
      // someone has since changed): the watch brings the newer one within
      // moments, so try again now rather than after the failure back-off
      // (1 s, doubling), which delayed a deletion or a schedule fix by
      // seconds — and, since status-only events no longer requeue, nothing
      // else would bring the key back sooner.
      spdlog::debug("reconciling {}: {}", *key, s.ToString());
      queue_.AddConflicted(*key);
    } else {
      spdlog::warn("reconciling {}: {}", *key, s.ToString());
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

Status BackupConfigurationController::EnsureFinalizer(BackupConfiguration* bc) {
  if (bc->metadata.HasFinalizer(kube::kFinalizer)) return Status::Ok();
  std::vector<std::string> fins = bc->metadata.finalizers;
  fins.push_back(S(kube::kFinalizer));
  json patch = {
      {"metadata", {{"finalizers", fins}, {"resourceVersion", bc->metadata.resource_version}}}};
  STASH_ASSIGN_OR_RETURN(*bc, apis::MergePatch<BackupConfiguration>(client_, bc->metadata, patch));
  return Status::Ok();
}

Status BackupConfigurationController::Reconcile(const std::string& ns, const std::string& name) {
  auto cached = caches_->bcs.Get(ns, name);
  if (!cached.ok())
    return cached.status().code() == Code::kNotFound ? Status::Ok() : cached.status();
  Pass pass;
  pass.bc = **cached;
  if (!pass.bc.metadata.deletion_timestamp.empty()) return Finalize(pass.bc);
  STASH_RETURN_IF_ERROR(EnsureFinalizer(&pass.bc));
  pass.now = clock_.Now();
  pass.gen = pass.bc.metadata.generation ? pass.bc.metadata.generation : 1;
  pass.conditions = pass.bc.status.conditions;

  const std::vector<std::string> problems = ValidateBackupConfigurationSpec(pass.bc.spec);
  const bool valid = problems.empty();
  pass.Set(
      kValidationPassed, valid, valid ? "ResourceValidationPassed" : "ResourceValidationFailed",
      valid ? "Successfully validated." : "Validation failed. Reason: " + Join(problems, "; "));
  std::shared_ptr<const Repository> repository = CheckRepository(pass);
  CheckTarget(pass);
  if (valid && pass.workload.index() != 0) EnsureSidecar(pass, repository.get());
  if (valid && pass.workload.index() == 0) {
    // The trigger's ticks still run (and are Skipped) while the target is missing.
    if (Status s = EnsureBackupRbac(pass, repository.get()); !s.ok()) {
      recorder_.Record(pass.bc, apis::kWarning, "CronJob Creation Failed", s.message())
          .IgnoreError();
      pass.Retry(s);
    }
  }
  EnsureTrigger(pass, valid);
  STASH_RETURN_IF_ERROR(WriteStatus(pass));
  return pass.transient;
}

std::shared_ptr<const Repository> BackupConfigurationController::CheckRepository(Pass& pass) {
  const apis::ObjectRef& ref = pass.bc.spec.repository;
  const std::string repo_ns = NsOr(ref.namespace_, pass.bc.metadata.namespace_);
  const std::string repo_id = "Repository " + repo_ns + "/" + ref.name;
  auto repo = caches_->repos.Get(repo_ns, ref.name);
  if (repo.ok()) {
    pass.Set(kRepositoryFound, true, "RepositoryAvailable", repo_id + " exist.");
  } else if (repo.status().code() == Code::kNotFound || ref.name.empty()) {
    pass.Set(kRepositoryFound, false, "RepositoryNotAvailable",
             repo_id + " does not exist. Create it, or fix spec.repository.");
  } else {
    pass.Set(kRepositoryFound, false, "UnableToCheckRepositoryAvailability",
             "Failed to check whether " + repo_id + " exist. Reason: " + repo.status().message());
  }
  if (!repo.ok()) {
    pass.Set(kBackendSecretFound, false, "UnableToCheckBackendSecretAvailability",
             "Cannot look up the backend Secret: " + repo_id + " does not exist.");
    return nullptr;
  }
  const std::string& secret = (*repo)->spec.backend.storage_secret_name;
  const std::string secret_id = "Backend Secret " + repo_ns + "/" + secret;
  if (secret.empty()) {
    pass.Set(kBackendSecretFound, false, "BackendSecretNotAvailable",
             repo_id + " has no spec.backend.storageSecretName.");
  } else if (auto s = caches_->secrets.Get(repo_ns, secret); s.ok()) {
    pass.Set(kBackendSecretFound, true, "BackendSecretAvailable", secret_id + " exist.");
  } else if (s.status().code() == Code::kNotFound) {
    pass.Set(kBackendSecretFound, false, "BackendSecretNotAvailable",
             secret_id +
                 " does not exist. Create it with the repository's password "
                 "(RESTIC_PASSWORD).");
  } else {
    pass.Set(kBackendSecretFound, false, "UnableToCheckBackendSecretAvailability",
             "Failed to check whether " + secret_id + " exist. Reason: " + s.status().message());
  }
  return *repo;
}

void BackupConfigurationController::CheckTarget(Pass& pass) {
  const apis::TargetRef ref = pass.bc.spec.target ? pass.bc.spec.target->ref : apis::TargetRef{};
  const std::string target_ns = NsOr(ref.namespace_, pass.bc.metadata.namespace_);
  pass.target_id = (ref.api_version.empty() ? "apps/v1" : ref.api_version) + " " + ref.kind + " " +
                   target_ns + "/" + ref.name;
  auto workload = caches_->Workload(ref.kind, target_ns, ref.name);
  if (ref.name.empty() || (!workload.ok() && workload.status().code() == Code::kUnsupported)) {
    pass.Set(kBackupTargetFound, false, "TargetNotAvailable",
             "Backup target " + pass.target_id + " is not a supported workload.");
  } else if (workload.ok()) {
    pass.workload = *workload;
    pass.Set(kBackupTargetFound, true, "TargetAvailable",
             "Backup target " + pass.target_id + " found.");
  } else if (workload.status().code() == Code::kNotFound) {
    pass.Set(kBackupTargetFound, false, "TargetNotAvailable",
             "Backup target " + pass.target_id + " does not exist.");
  } else {
    pass.Set(kBackupTargetFound, false, "UnableToCheckTargetAvailability",
             "Failed to check whether backup target " + pass.target_id +
                 " exist. Reason: " + workload.status().message());
  }
}

Status BackupConfigurationController::EnsureBackupRbac(const Pass& pass,
                                                       const Repository* repository) {
  if (!repository) return Status::Ok();  // its Secret is not known yet
  const std::string trigger = TriggerCronJobName(pass.bc.metadata.name);
  // Without a workload the trigger is the only subject (not "default").
  std::string account = trigger, workload;
  std::visit(
      [&](const auto& cached) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(cached)>, std::monostate>) {
          account = cached->spec.template_.spec.service_account_name;
          workload = cached->metadata.name;
        }
      },
      pass.workload);
  const apis::TargetRef ref = pass.bc.spec.target ? pass.bc.spec.target->ref : apis::TargetRef{};
  auto target = kube::WorkloadResource(ref.kind);
  RbacObjects objects =
      BackupRbac(RbacOwnerOf(pass.bc), account, trigger, repository->metadata.namespace_,
                 repository->metadata.name, repository->spec.backend.storage_secret_name,
                 target.ok() && !workload.empty() ? target->plural : "", workload);
  Status s = EnsureRbac(client_, objects);
  if (!s.ok()) {
    return Status(s.code(), "granting the sidecar and trigger their permissions: " + s.message());
  }
  return s;
}

void BackupConfigurationController::EnsureSidecar(Pass& pass, const Repository* repository) {
  auto inject = [&](const auto& cached) -> Status {
    if constexpr (std::is_same_v<std::decay_t<decltype(cached)>, std::monostate>) {
      return Status::Ok();
    } else {
      auto desired = *cached;
      if (!InjectSidecar(&desired.metadata, &desired.spec.template_, pass.bc, repository, image_,
                         pushgateway_url_)) {
        return Status::Ok();
      }
      STASH_RETURN_IF_ERROR(apis::Update(client_, desired));
      recorder_
          .Record(pass.bc, apis::kNormal, "Sidecar Injection Succeeded",
                  "Successfully injected stash sidecar into " + apis::Describe(desired) + ".")
          .IgnoreError();
      return Status::Ok();
    }
  };
  // The sidecar and trigger may call only what their Role grants.
  Status s = EnsureBackupRbac(pass, repository);
  if (s.ok()) s = std::visit(inject, pass.workload);
  if (s.code() == Code::kConflict) {
    // Our cache is behind the server (a write of ours not yet seen): not a
    // failure to report; the watch brings the news and a retry settles it.
    pass.Retry(s);
    return;
  }
  if (s.ok()) {
    pass.Set(kStashSidecarInjected, true, "SidecarInjectionSucceeded",
             "Successfully injected stash sidecar into " + pass.target_id + ".");
    return;
  }
  pass.Set(kStashSidecarInjected, false, "SidecarInjectionFailed",
           "Failed to inject stash sidecar into " + pass.target_id + ". Reason: " + s.message());
  recorder_.Record(pass.bc, apis::kWarning, "Sidecar Injection Failed", s.message()).IgnoreError();
  pass.Retry(s);
}

void BackupConfigurationController::EnsureTrigger(Pass& pass, bool valid) {
  if (!valid) {
    // A schedule that turned invalid must not keep firing with its old value.
    Status d = apis::Delete<CronJob>(client_, pass.bc.metadata.namespace_,
                                     TriggerCronJobName(pass.bc.metadata.name), "Background");
    if (!d.ok() && d.code() != Code::kNotFound) pass.Retry(d);
    return;
  }
  Status s = EnsureCronJob(pass.bc);
  if (s.code() == Code::kConflict) {  // a stale cache, as for the sidecar
    pass.Retry(s);
    return;
  }
  if (s.ok()) {
    pass.Set(kCronJobCreated, true, "CronJobCreationSucceeded",
             "Successfully created backup triggering CronJob.");
    return;
  }
  pass.Set(kCronJobCreated, false, "CronJobCreationFailed",
           "Failed to create backup triggering CronJob. Reason: " + s.message());
  recorder_.Record(pass.bc, apis::kWarning, "CronJob Creation Failed", s.message()).IgnoreError();
  pass.Retry(s);
}

Status BackupConfigurationController::WriteStatus(const Pass& pass) {
  apis::BackupConfigurationStatus status = pass.bc.status;
  status.conditions = pass.conditions;
  status.phase = ComputePhase(pass.conditions);
  // A workload's configuration is Ready once its sidecar is in: a sidecar
  // write that met a conflict (the cluster's controllers write the workload's
  // status meanwhile) is retried before the sidecar may act on Ready.
  if (status.phase == "Ready" && pass.workload.index() != 0 &&
      apis::ConditionStatus(pass.conditions, kStashSidecarInjected) != "True") {
    status.phase = "NotReady";
  }
  status.observed_generation = pass.gen;
  if (status == pass.bc.status) return Status::Ok();
  // Against the version reconciled: the list of conditions is written whole,
  // and a sidecar's (StashSidecarAuthorized) must not be lost to a stale cache.
  return apis::PatchStatus(client_, pass.bc, status, /*if_version=*/true).status();
}

Status BackupConfigurationController::EnsureCronJob(const BackupConfiguration& bc) {
  CronJob desired = TriggerCronJob(bc, image_);
  auto existing = caches_->cronjobs.Get(desired.metadata.namespace_, desired.metadata.name);
  if (!existing.ok()) {
    if (existing.status().code() != Code::kNotFound) return existing.status();
    auto created = apis::Create(client_, desired);
    return created.ok() || created.status().code() == Code::kAlreadyExists ? Status::Ok()
                                                                           : created.status();
  }
  if (!CronJobNeedsUpdate(**existing, desired)) return Status::Ok();
  return apis::Update(client_, MergeCronJob(**existing, desired)).status();
}

Status BackupConfigurationController::Finalize(const BackupConfiguration& bc) {
  if (!bc.metadata.HasFinalizer(kube::kFinalizer)) return Status::Ok();
  const apis::TargetRef ref = bc.spec.target ? bc.spec.target->ref : apis::TargetRef{};
  const std::string target_ns = NsOr(ref.namespace_, bc.metadata.namespace_);
  auto workload = caches_->Workload(ref.kind, target_ns, ref.name);
  if (!workload.ok() && workload.status().code() != Code::kNotFound &&
      workload.status().code() != Code::kUnsupported) {
    return workload.status();
  }
  auto remove = [&](const auto& cached) -> Status {
    if constexpr (std::is_same_v<std::decay_t<decltype(cached)>, std::monostate>) {
      return Status::Ok();
    } else {
      auto desired = *cached;
      if (!RemoveSidecar(&desired.metadata, &desired.spec.template_)) return Status::Ok();
      STASH_RETURN_IF_ERROR(apis::Update(client_, desired));
      recorder_
          .Record(bc, apis::kNormal, "Sidecar Deletion Succeeded",
                  "Successfully removed stash sidecar from " + apis::Describe(desired) + ".")
          .IgnoreError();
      return Status::Ok();
    }
  };
  if (workload.ok()) STASH_RETURN_IF_ERROR(std::visit(remove, *workload));
  Status d = apis::Delete<CronJob>(client_, bc.metadata.namespace_,
                                   TriggerCronJobName(bc.metadata.name), "Background");
  if (!d.ok() && d.code() != Code::kNotFound) return d;
  const std::string& ns = bc.metadata.namespace_;
  STASH_RETURN_IF_ERROR(
      RemoveRbac(client_, RbacOwnerOf(bc), {ns, NsOr(bc.spec.repository.namespace_, ns)}));
  std::vector<std::string> fins;
  for (const std::string& f : bc.metadata.finalizers) {
    if (f != kube::kFinalizer) fins.push_back(f);
  }
  json patch = {
      {"metadata", {{"finalizers", fins}, {"resourceVersion", bc.metadata.resource_version}}}};
  auto p = apis::MergePatch<BackupConfiguration>(client_, bc.metadata, patch);
  if (!p.ok() && p.status().code() != Code::kNotFound) return p.status();
  return Status::Ok();
}

Status BackupConfigurationController::ReconcileSession(const std::string& ns,
                                                       const std::string& name) {
  auto cached = caches_->sessions.Get(ns, name);
  if (!cached.ok())
    return cached.status().code() == Code::kNotFound ? Status::Ok() : cached.status();
  const BackupSession& bs = **cached;
  if (NeedsRetry(bs)) return ReconcileRetry(bs);
  if (!bs.status.phase.empty()) return Status::Ok();
  std::string invoker = bs.spec.invoker.name;
  if (invoker.empty()) invoker = bs.metadata.Label(kube::kLabelBackupConfiguration);
  std::string reason;
  auto bc = caches_->bcs.Get(ns, invoker);
  if (!bc.ok()) {
    if (bc.status().code() != Code::kNotFound) return bc.status();
    reason = "BackupConfiguration " + ns + "/" + invoker + " does not exist.";
  } else {
    const std::string& phase = (*bc)->status.phase;
    if (phase.empty() || phase == "Ready") return Status::Ok();  // the sidecar's job
    reason = "BackupConfiguration " + ns + "/" + invoker + " is not ready (phase " + phase + ")";
    for (const apis::Condition& c : (*bc)->status.conditions) {
      if (c.status == "False") {
        reason += ": " + c.message;
        break;
      }
    }
    if (reason.back() != '.') reason += ".";
  }
  const std::string message = "Skipped taking backup. Reason: " + reason;
  apis::BackupSessionStatus status;
  status.phase = "Skipped";
  apis::SetCondition(&status.conditions, "BackupSkipped", true, "SkippedTakingNewBackup", message,
                     clock_.Now(), bs.metadata.generation ? bs.metadata.generation : 1);
  STASH_RETURN_IF_ERROR(apis::PatchStatus(client_, bs, status));
  session_recorder_.Record(bs, apis::kWarning, "BackupSessionSkipped", message).IgnoreError();
  if (!bc.ok()) return Status::Ok();  // no backupHistoryLimit to apply
  BackupSession skipped = bs;
  skipped.status = std::move(status);
  PruneHistory(**bc, skipped);
  return Status::Ok();
}

void BackupConfigurationController::PruneHistory(const BackupConfiguration& bc,
                                                 const BackupSession& newest) {
  // The skipped session's own status may not be in the cache yet.
  std::vector<std::shared_ptr<const BackupSession>> items = {
      std::make_shared<const BackupSession>(newest)};
  for (const auto& s : caches_->sessions.List()) {
    if (s->metadata.namespace_ == bc.metadata.namespace_ &&
        s->metadata.name != newest.metadata.name &&
        apis::IsSessionOf(*s, "BackupConfiguration", bc.metadata.name)) {
      items.push_back(s);
    }
  }
  for (const std::string& name :
       apis::SessionsBeyondHistoryLimit(items, bc.spec.backup_history_limit.value_or(1))) {
    apis::Delete<BackupSession>(client_, bc.metadata.namespace_, name, "Background").IgnoreError();
  }
}

}  // namespace stash::controller
