#include "stash/controller/backup_configuration_controller.h"

#include <spdlog/spdlog.h>

#include <set>

#include "stash/controller/invoker.h"
#include "stash/controller/rbac.h"
#include "stash/controller/validation.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

using kube::json;
namespace res = kube::res;

std::string S(std::string_view v) { return std::string(v); }

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string NsOf(const json& obj) { return obj.value("/metadata/namespace"_json_pointer, ""); }
std::string NameOf(const json& obj) { return obj.value("/metadata/name"_json_pointer, ""); }

RbacOwner RbacOwnerOf(const json& bc) {
  return {bc.value("apiVersion", res::kBackupConfigurations.ApiVersion()), "BackupConfiguration",
          NsOf(bc), NameOf(bc), bc.value("/metadata/uid"_json_pointer, "")};
}

bool HasFinalizer(const json& obj) {
  for (const json& f : obj.value("/metadata/finalizers"_json_pointer, json::array())) {
    if (f == kube::kFinalizer) return true;
  }
  return false;
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
    const std::string& ns, const std::function<bool(const json& bc)>& refers) {
  if (!bc_informer_) return;
  std::vector<std::string> keys;
  bc_informer_->ForEach([&](const json& bc) {
    if (NsOf(bc) == ns && refers(bc)) keys.push_back("bc:" + ns + "/" + NameOf(bc));
  });
  for (const auto& k : keys) queue_.Add(k);
}

void BackupConfigurationController::OnDependency(const kube::Resource& r, const std::string& type,
                                                 const json& obj) {
  const std::string ns = NsOf(obj), name = NameOf(obj);
  if (&r == &res::kRepositories) {
    EnqueueReferring(ns, [&](const json& bc) {
      return bc.value("/spec/repository/name"_json_pointer, "") == name &&
             bc.value("/spec/repository/namespace"_json_pointer, ns) == ns;
    });
  } else if (&r == &res::kSecrets) {
    // Secret → the Repositories that use it → their BackupConfigurations.
    std::set<std::string> repos;
    if (repo_informer_) {
      repo_informer_->ForEach([&](const json& repo) {
        if (NsOf(repo) == ns &&
            repo.value("/spec/backend/storageSecretName"_json_pointer, "") == name) {
          repos.insert(NameOf(repo));
        }
      });
    }
    if (repos.empty()) return;
    EnqueueReferring(ns, [&](const json& bc) {
      return repos.count(bc.value("/spec/repository/name"_json_pointer, "")) > 0;
    });
  } else if (&r == &res::kCronJobs) {
    if (type != "DELETED") return;  // ours to recreate; other changes are our own writes
    EnqueueReferring(ns, [&](const json& bc) { return TriggerCronJobName(NameOf(bc)) == name; });
  } else {  // a workload
    EnqueueReferring(ns, [&](const json& bc) {
      return bc.value("/spec/target/ref/kind"_json_pointer, "") == r.kind &&
             bc.value("/spec/target/ref/name"_json_pointer, "") == name;
    });
  }
}

void BackupConfigurationController::Start() {
  stop_ = false;
  auto bc_handler = [this](const std::string&, const json& obj) {
    queue_.Add("bc:" + NsOf(obj) + "/" + NameOf(obj));
  };
  auto bs_handler = [this](const std::string& type, const json& obj) {
    if (type == "DELETED") return;
    if (obj.value("/status/phase"_json_pointer, "").empty() || NeedsRetry(obj)) {
      queue_.Add("bs:" + NsOf(obj) + "/" + NameOf(obj));
    }
  };
  informers_.push_back(std::make_unique<kube::Informer>(client_, res::kBackupConfigurations, ns_,
                                                        kube::ListOptions{}, clock_, bc_handler));
  bc_informer_ = informers_.back().get();
  informers_.push_back(std::make_unique<kube::Informer>(client_, res::kBackupSessions, ns_,
                                                        kube::ListOptions{}, clock_, bs_handler));
  for (const kube::Resource* r : {&res::kRepositories, &res::kSecrets, &res::kDeployments,
                                  &res::kStatefulSets, &res::kDaemonSets, &res::kCronJobs}) {
    informers_.push_back(std::make_unique<kube::Informer>(
        client_, *r, ns_, kube::ListOptions{}, clock_,
        [this, r](const std::string& type, const json& obj) { OnDependency(*r, type, obj); }));
    if (r == &res::kRepositories) repo_informer_ = informers_.back().get();
  }
  for (auto& inf : informers_) inf->Start();
  // A few workers: a reconcile mostly waits on the API server, and a
  // thousand BackupConfigurations created at once should not queue behind one.
  for (int i = 0; i < 4; ++i) workers_.emplace_back([this] { Work(); });
  resync_ = std::thread([this] {
    while (kube::SleepUnlessStopped(clock_, std::chrono::minutes(10), stop_)) {
      std::vector<std::string> keys;
      bc_informer_->ForEach(
          [&](const json& bc) { keys.push_back("bc:" + NsOf(bc) + "/" + NameOf(bc)); });
      for (const auto& k : keys) queue_.Add(k);
    }
  });
}

void BackupConfigurationController::Stop() {
  stop_ = true;
  for (auto& inf : informers_) inf->Stop();
  for (auto& w : workers_) w.join();
  workers_.clear();
  if (resync_.joinable()) resync_.join();
  informers_.clear();
  bc_informer_ = nullptr;
  repo_informer_ = nullptr;
}

void BackupConfigurationController::Work() {
  while (auto key = queue_.Get(stop_)) {
    std::string kind = key->substr(0, 2);
    std::string rest = key->substr(3);
    size_t slash = rest.find('/');
    std::string ns = rest.substr(0, slash), name = rest.substr(slash + 1);
    Status s;
    try {
      s = kind == "bc" ? Reconcile(ns, name) : ReconcileSession(ns, name);
    } catch (const std::exception& e) {  // a malformed object must not stop the operator
      s = InternalError(e.what());
    }
    if (s.ok()) {
      queue_.Forget(*key);
    } else {
      spdlog::warn("reconciling {}: {}", *key, s.ToString());
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

Status BackupConfigurationController::Reconcile(const std::string& ns, const std::string& name) {
  auto got = client_.Get(res::kBackupConfigurations, ns, name);
  if (!got.ok()) return got.status().code() == Code::kNotFound ? Status::Ok() : got.status();
  json bc = std::move(*got);
  bc["apiVersion"] = res::kBackupConfigurations.ApiVersion();
  bc["kind"] = res::kBackupConfigurations.kind;
  if (bc["metadata"].contains("deletionTimestamp")) return Finalize(std::move(bc));
  if (!HasFinalizer(bc)) {
    json fins = bc["metadata"].value("finalizers", json::array());
    fins.push_back(S(kube::kFinalizer));
    json patch = {{"metadata",
                   {{"finalizers", fins}, {"resourceVersion", bc["metadata"]["resourceVersion"]}}}};
    STASH_ASSIGN_OR_RETURN(json updated, client_.Patch(res::kBackupConfigurations, ns, name,
                                                       kube::PatchType::kMerge, patch));
    updated["apiVersion"] = bc["apiVersion"];
    updated["kind"] = bc["kind"];
    bc = std::move(updated);
  }

  const json spec = bc.value("spec", json::object());
  const int64_t gen = bc["metadata"].value("generation", int64_t{1});
  const SystemTime now = clock_.Now();
  json status = bc.value("status", json::object());
  json conditions = status.value("conditions", json::array());
  Status transient;  // the first error worth a retry

  std::vector<std::string> problems = ValidateBackupConfigurationSpec(spec);
  const bool valid = problems.empty();
  SetCondition(
      &conditions, kValidationPassed, valid,
      valid ? "ResourceValidationPassed" : "ResourceValidationFailed",
      valid ? "Successfully validated." : "Validation failed. Reason: " + Join(problems, "; "), now,
      gen);

  // Repository and its storage Secret.
  std::string repo_ns = spec.value("/repository/namespace"_json_pointer, ns);
  std::string repo_name = spec.value("/repository/name"_json_pointer, "");
  std::optional<json> repository;
  std::string repo_id = "Repository " + repo_ns + "/" + repo_name;
  if (auto r = client_.Get(res::kRepositories, repo_ns, repo_name); r.ok()) {
    repository = *r;
    SetCondition(&conditions, kRepositoryFound, true, "RepositoryAvailable", repo_id + " exist.",
                 now, gen);
  } else if (r.status().code() == Code::kNotFound || repo_name.empty()) {
    SetCondition(&conditions, kRepositoryFound, false, "RepositoryNotAvailable",
                 repo_id + " does not exist. Create it, or fix spec.repository.", now, gen);
  } else {
    SetCondition(&conditions, kRepositoryFound, false, "UnableToCheckRepositoryAvailability",
                 "Failed to check whether " + repo_id + " exist. Reason: " + r.status().message(),
                 now, gen);
    transient = r.status();
  }
  if (repository) {
    std::string secret = repository->value("/spec/backend/storageSecretName"_json_pointer, "");
    std::string secret_id = "Backend Secret " + repo_ns + "/" + secret;
    if (secret.empty()) {
      SetCondition(&conditions, kBackendSecretFound, false, "BackendSecretNotAvailable",
                   repo_id + " has no spec.backend.storageSecretName.", now, gen);
    } else if (auto s = client_.Get(res::kSecrets, repo_ns, secret); s.ok()) {
      SetCondition(&conditions, kBackendSecretFound, true, "BackendSecretAvailable",
                   secret_id + " exist.", now, gen);
    } else if (s.status().code() == Code::kNotFound) {
      SetCondition(&conditions, kBackendSecretFound, false, "BackendSecretNotAvailable",
                   secret_id +
                       " does not exist. Create it with the repository's password "
                       "(RESTIC_PASSWORD).",
                   now, gen);
    } else {
      SetCondition(
          &conditions, kBackendSecretFound, false, "UnableToCheckBackendSecretAvailability",
          "Failed to check whether " + secret_id + " exist. Reason: " + s.status().message(), now,
          gen);
      transient = s.status();
    }
  } else {
    SetCondition(&conditions, kBackendSecretFound, false, "UnableToCheckBackendSecretAvailability",
                 "Cannot look up the backend Secret: " + repo_id + " does not exist.", now, gen);
  }

  // Target workload.
  const json ref = spec.value("/target/ref"_json_pointer, json::object());
  std::string target_ns = ref.value("namespace", ns);
  std::string target_id = ref.value("apiVersion", "apps/v1") + " " + ref.value("kind", "") + " " +
                          target_ns + "/" + ref.value("name", "");
  std::optional<json> workload;
  auto workload_res = kube::WorkloadResource(ref.value("kind", ""));
  if (workload_res.ok() && !ref.value("name", "").empty()) {
    if (auto w = client_.Get(*workload_res, target_ns, ref.value("name", "")); w.ok()) {
      workload = *w;
      SetCondition(&conditions, kBackupTargetFound, true, "TargetAvailable",
                   "Backup target " + target_id + " found.", now, gen);
    } else if (w.status().code() == Code::kNotFound) {
      SetCondition(&conditions, kBackupTargetFound, false, "TargetNotAvailable",
                   "Backup target " + target_id + " does not exist.", now, gen);
    } else {
      SetCondition(&conditions, kBackupTargetFound, false, "UnableToCheckTargetAvailability",
                   "Failed to check whether backup target " + target_id +
                       " exist. Reason: " + w.status().message(),
                   now, gen);
      transient = w.status();
    }
  } else {
    SetCondition(&conditions, kBackupTargetFound, false, "TargetNotAvailable",
                 "Backup target " + target_id + " is not a supported workload.", now, gen);
  }

  if (valid && workload) {
    std::string msg;
    // The sidecar and trigger may call only what their Role grants.
    Status s = EnsureBackupRbac(bc, &*workload, repository ? &*repository : nullptr);
    if (s.ok()) {
      s = EnsureSidecar(bc, *workload, *workload_res, repository ? &*repository : nullptr, &msg);
    }
    if (s.ok()) {
      SetCondition(&conditions, kStashSidecarInjected, true, "SidecarInjectionSucceeded",
                   "Successfully injected stash sidecar into " + target_id + ".", now, gen);
    } else {
      SetCondition(&conditions, kStashSidecarInjected, false, "SidecarInjectionFailed",
                   "Failed to inject stash sidecar into " + target_id + ". Reason: " + s.message(),
                   now, gen);
      recorder_.Record(bc, kube::kWarning, "Sidecar Injection Failed", s.message()).IgnoreError();
      if (transient.ok()) transient = s;
    }
  }
  if (valid && !workload) {
    Status s = EnsureBackupRbac(bc, nullptr, repository ? &*repository : nullptr);
    if (!s.ok()) {
      recorder_.Record(bc, kube::kWarning, "CronJob Creation Failed", s.message()).IgnoreError();
      if (transient.ok()) transient = s;
    }
  }
  if (valid) {
    Status s = EnsureCronJob(bc);
    if (s.ok()) {
      SetCondition(&conditions, kCronJobCreated, true, "CronJobCreationSucceeded",
                   "Successfully created backup triggering CronJob.", now, gen);
    } else {
      SetCondition(&conditions, kCronJobCreated, false, "CronJobCreationFailed",
                   "Failed to create backup triggering CronJob. Reason: " + s.message(), now, gen);
      recorder_.Record(bc, kube::kWarning, "CronJob Creation Failed", s.message()).IgnoreError();
      if (transient.ok()) transient = s;
    }
  } else {
    // A schedule that turned invalid must not keep firing with its old value.
    Status d = client_.Delete(res::kCronJobs, ns, TriggerCronJobName(name), "Background");
    if (!d.ok() && d.code() != Code::kNotFound && transient.ok()) transient = d;
  }

  json new_status = status;
  new_status["conditions"] = conditions;
  new_status["phase"] = ComputePhase(conditions);
  new_status["observedGeneration"] = gen;
  if (new_status != status) {
    auto p = client_.Patch(res::kBackupConfigurations, ns, name, kube::PatchType::kMerge,
                           {{"status", new_status}}, "status");
    if (!p.ok()) return p.status();
  }
  return transient;
}

Status BackupConfigurationController::EnsureSidecar(const json& bc, const json& workload,
                                                    const kube::Resource& r, const json* repository,
                                                    std::string* message) {
  json desired = workload;
  if (!InjectSidecar(&desired, bc, repository, image_, pushgateway_url_)) return Status::Ok();
  auto updated = client_.Update(r, NsOf(workload), desired);
  if (!updated.ok()) return updated.status();
  recorder_
      .Record(bc, kube::kNormal, "Sidecar Injection Succeeded",
              "Successfully injected stash sidecar into " + r.kind + " " + NsOf(workload) + "/" +
                  NameOf(workload) + ".")
      .IgnoreError();
  return Status::Ok();
}

Status BackupConfigurationController::EnsureBackupRbac(const json& bc, const json* workload,
                                                       const json* repository) {
  if (!repository) return Status::Ok();  // its Secret is not known yet
  const std::string trigger = TriggerCronJobName(NameOf(bc));
  // Without a workload the trigger is the only subject (not "default").
  std::string account = trigger;
  if (workload) {
    const json tmpl = workload->value("/spec/template/spec"_json_pointer, json::object());
    account = tmpl.value("serviceAccountName", tmpl.value("serviceAccount", ""));
  }
  auto target = kube::WorkloadResource(bc.value("/spec/target/ref/kind"_json_pointer, ""));
  RbacObjects objects =
      BackupRbac(RbacOwnerOf(bc), account, trigger, NsOf(*repository), NameOf(*repository),
                 repository->value("/spec/backend/storageSecretName"_json_pointer, ""),
                 target.ok() && workload ? target->plural : "", workload ? NameOf(*workload) : "");
  Status s = EnsureRbac(client_, objects);
  if (!s.ok()) {
    return Status(s.code(), "granting the sidecar and trigger their permissions: " + s.message());
  }
  return s;
}

Status BackupConfigurationController::EnsureCronJob(const json& bc) {
  json desired = TriggerCronJob(bc, image_);
  std::string ns = NsOf(bc);
  auto existing = client_.Get(res::kCronJobs, ns, NameOf(desired));
  if (!existing.ok()) {
    if (existing.status().code() != Code::kNotFound) return existing.status();
    auto created = client_.Create(res::kCronJobs, ns, desired);
    return created.ok() || created.status().code() == Code::kAlreadyExists ? Status::Ok()
                                                                           : created.status();
  }
  if (!CronJobNeedsUpdate(*existing, desired)) return Status::Ok();
  json merged = *existing;
  merged["spec"]["schedule"] = desired["spec"]["schedule"];
  merged["spec"]["suspend"] = desired["spec"]["suspend"];
  merged["spec"]["jobTemplate"] = desired["spec"]["jobTemplate"];
  merged["metadata"]["ownerReferences"] = desired["metadata"]["ownerReferences"];
  auto updated = client_.Update(res::kCronJobs, ns, merged);
  return updated.ok() ? Status::Ok() : updated.status();
}

Status BackupConfigurationController::Finalize(json bc) {
  if (!HasFinalizer(bc)) return Status::Ok();
  std::string ns = NsOf(bc), name = NameOf(bc);
  const json ref = bc.value("/spec/target/ref"_json_pointer, json::object());
  if (auto r = kube::WorkloadResource(ref.value("kind", "")); r.ok()) {
    std::string target_ns = ref.value("namespace", ns);
    auto w = client_.Get(*r, target_ns, ref.value("name", ""));
    if (w.ok()) {
      json desired = *w;
      if (RemoveSidecar(&desired)) {
        auto u = client_.Update(*r, target_ns, desired);
        if (!u.ok()) return u.status();
        recorder_
            .Record(bc, kube::kNormal, "Sidecar Deletion Succeeded",
                    "Successfully removed stash sidecar from " + r->kind + " " + target_ns + "/" +
                        ref.value("name", "") + ".")
            .IgnoreError();
      }
    } else if (w.status().code() != Code::kNotFound) {
      return w.status();
    }
  }
  Status d = client_.Delete(res::kCronJobs, ns, TriggerCronJobName(name), "Background");
  if (!d.ok() && d.code() != Code::kNotFound) return d;
  STASH_RETURN_IF_ERROR(RemoveRbac(client_, RbacOwnerOf(bc),
                                   {ns, bc.value("/spec/repository/namespace"_json_pointer, ns)}));
  json fins = json::array();
  for (const json& f : bc["metadata"].value("finalizers", json::array())) {
    if (f != kube::kFinalizer) fins.push_back(f);
  }
  json patch = {
      {"metadata", {{"finalizers", fins}, {"resourceVersion", bc["metadata"]["resourceVersion"]}}}};
  auto p = client_.Patch(res::kBackupConfigurations, ns, name, kube::PatchType::kMerge, patch);
  if (!p.ok() && p.status().code() != Code::kNotFound) return p.status();
  return Status::Ok();
}

Status BackupConfigurationController::ReconcileSession(const std::string& ns,
                                                       const std::string& name) {
  auto got = client_.Get(res::kBackupSessions, ns, name);
  if (!got.ok()) return got.status().code() == Code::kNotFound ? Status::Ok() : got.status();
  json bs = std::move(*got);
  bs["apiVersion"] = res::kBackupSessions.ApiVersion();
  bs["kind"] = res::kBackupSessions.kind;
  if (NeedsRetry(bs)) return ReconcileRetry(bs);
  if (!bs.value("/status/phase"_json_pointer, "").empty()) return Status::Ok();
  std::string invoker = bs.value("/spec/invoker/name"_json_pointer, "");
  if (invoker.empty()) {
    invoker = bs.value("/metadata/labels"_json_pointer, json::object())
                  .value(S(kube::kLabelBackupConfiguration), "");
  }
  std::string reason;
  auto bc = client_.Get(res::kBackupConfigurations, ns, invoker);
  if (!bc.ok()) {
    if (bc.status().code() != Code::kNotFound) return bc.status();
    reason = "BackupConfiguration " + ns + "/" + invoker + " does not exist.";
  } else {
    std::string phase = bc->value("/status/phase"_json_pointer, "");
    if (phase.empty() || phase == "Ready") return Status::Ok();  // the sidecar's job
    reason = "BackupConfiguration " + ns + "/" + invoker + " is not ready (phase " + phase + ")";
    for (const json& c : bc->value("/status/conditions"_json_pointer, json::array())) {
      if (c.value("status", "") == "False") {
        reason += ": " + c.value("message", "");
        break;
      }
    }
    if (reason.back() != '.') reason += ".";
  }
  std::string message = "Skipped taking backup. Reason: " + reason;
  json conditions = json::array();
  SetCondition(&conditions, "BackupSkipped", true, "SkippedTakingNewBackup", message, clock_.Now(),
               bs["metadata"].value("generation", int64_t{1}));
  auto p =
      client_.Patch(res::kBackupSessions, ns, name, kube::PatchType::kMerge,
                    {{"status", {{"phase", "Skipped"}, {"conditions", conditions}}}}, "status");
  if (!p.ok()) return p.status();
  session_recorder_.Record(bs, kube::kWarning, "BackupSessionSkipped", message).IgnoreError();
  return Status::Ok();
}

}  // namespace stash::controller
