#include "stash/controller/restore_session_controller.h"

#include <spdlog/spdlog.h>

#include "stash/apis/client.h"
#include "stash/apis/core.h"
#include "stash/controller/rbac.h"
#include "stash/controller/restore_session.h"
#include "stash/kube/duration.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

using apis::json;

std::string S(std::string_view v) { return std::string(v); }

RbacOwner RbacOwnerOf(const apis::RestoreSession& s) {
  return {"stash.appscode.com/v1beta1", "RestoreSession", s.metadata.namespace_, s.metadata.name,
          s.metadata.uid};
}

bool Final(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Unknown";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const apis::TargetRef& RefOf(const apis::RestoreSession& s) {
  static const apis::TargetRef kNone;
  return s.spec.target ? s.spec.target->ref : kNone;
}

std::string TargetText(const apis::RestoreSession& s) {
  return RefOf(s).kind + " " + s.metadata.namespace_ + "/" + RefOf(s).name;
}

// The view of the target workload (kind from the session's ref).
Result<apis::Workload> GetWorkload(const kube::Client& c, const std::string& kind,
                                   const std::string& ns, const std::string& name,
                                   int32_t* scheduled) {
  if (kind == "Deployment") {
    STASH_ASSIGN_OR_RETURN(auto d, apis::Get<apis::Deployment>(c, ns, name));
    return apis::Workload::Of(d);
  }
  if (kind == "StatefulSet") {
    STASH_ASSIGN_OR_RETURN(auto s, apis::Get<apis::StatefulSet>(c, ns, name));
    return apis::Workload::Of(s);
  }
  STASH_ASSIGN_OR_RETURN(auto d, apis::Get<apis::DaemonSet>(c, ns, name));
  if (scheduled) *scheduled = d.status.desired_number_scheduled;
  return apis::Workload::Of(d);
}

using Mutate = std::function<Result<bool>(apis::PodTemplateSpec*, apis::ObjectMeta*)>;

// Retried on a conflict, as client-go's RetryOnConflict: the cluster's
// workload controllers write the object's status and annotations meanwhile.
template <class W>
Result<bool> UpdateAs(const kube::Client& c, const std::string& ns, const std::string& name,
                      const Mutate& mutate) {
  for (int attempt = 1;; ++attempt) {
    STASH_ASSIGN_OR_RETURN(W w, apis::Get<W>(c, ns, name));
    STASH_ASSIGN_OR_RETURN(bool changed, mutate(&w.spec.template_, &w.metadata));
    if (!changed) return false;
    Status s = apis::Update(c, w).status();
    if (s.ok()) return true;
    if (s.code() != Code::kConflict || attempt == 5) return s;
  }
}

// Reads the workload, lets `mutate` change its pod template and metadata, and
// writes it back (conditional on its resourceVersion) when it changed.
Result<bool> UpdateWorkload(const kube::Client& c, const std::string& kind, const std::string& ns,
                            const std::string& name, const Mutate& mutate) {
  if (kind == "Deployment") return UpdateAs<apis::Deployment>(c, ns, name, mutate);
  if (kind == "StatefulSet") return UpdateAs<apis::StatefulSet>(c, ns, name, mutate);
  return UpdateAs<apis::DaemonSet>(c, ns, name, mutate);
}

apis::ObjectReference WorkloadReference(const apis::Workload& w) {
  apis::ObjectReference r;
  r.api_version = w.api_version.empty() ? "apps/v1" : w.api_version;
  r.kind = w.kind;
  r.namespace_ = w.metadata.namespace_;
  r.name = w.metadata.name;
  r.uid = w.metadata.uid;
  return r;
}

// The host names a session's hosts report under.
std::vector<std::string> HostsOf(const apis::RestoreSession& s, int32_t total) {
  std::vector<std::string> hosts;
  if (ModeOf(s) == RestoreMode::kJob || RefOf(s).kind == "StatefulSet") {
    for (int32_t i = 0; i < total; ++i) hosts.push_back("host-" + std::to_string(i));
  } else if (RefOf(s).kind != "DaemonSet") {
    hosts.push_back("host-0");
  }
  return hosts;
}

// Marks every host without a final entry Failed with `reason`.
void FailOpenHosts(apis::RestoreSessionStatus* status, const std::vector<std::string>& hosts,
                   const std::string& reason) {
  for (const std::string& h : hosts) {
    auto it = std::find_if(status->stats.begin(), status->stats.end(),
                           [&](const apis::HostRestoreStats& st) { return st.hostname == h; });
    if (it != status->stats.end() && Final(it->phase)) continue;
    apis::HostRestoreStats st;
    st.hostname = h;
    st.phase = "Failed";
    st.error = reason;
    if (it != status->stats.end()) {
      *it = st;
    } else {
      status->stats.push_back(st);
    }
  }
  // Hosts named otherwise (a DaemonSet's nodes) that are still open.
  for (apis::HostRestoreStats& st : status->stats) {
    if (!Final(st.phase)) {
      st.phase = "Failed";
      st.error = reason;
    }
  }
}

}  // namespace

RestoreSessionController::RestoreSessionController(const kube::Client& client, Clock& clock,
                                                   std::string ns, std::string image)
    : client_(client),
      clock_(clock),
      ns_(std::move(ns)),
      image_(std::move(image)),
      events_(client, clock, "RestoreSession Controller"),
      queue_(clock) {}

RestoreSessionController::~RestoreSessionController() { Stop(); }

void RestoreSessionController::EnqueueIf(
    const std::string& ns, const std::function<bool(const apis::RestoreSession&)>& refers) {
  if (!sessions_) return;
  std::vector<std::string> keys;
  sessions_->ForEach([&](const apis::RestoreSession& s) {
    if (s.metadata.namespace_ == ns && refers(s)) keys.push_back(s.metadata.Key());
  });
  for (const std::string& k : keys) queue_.Add(k);
}

void RestoreSessionController::Start() {
  stop_ = false;
  sessions_ = std::make_unique<apis::Informer<apis::RestoreSession>>(
      client_, ns_, kube::ListOptions{}, clock_,
      [this](const std::string& type, const apis::RestoreSession& s) {
        if (type != "DELETED") queue_.Add(s.metadata.Key());
      });
  repositories_ = std::make_unique<apis::Informer<apis::Repository>>(
      client_, ns_, kube::ListOptions{}, clock_,
      [this](const std::string&, const apis::Repository& r) {
        EnqueueIf(r.metadata.namespace_, [&](const apis::RestoreSession& s) {
          return s.spec.repository.name == r.metadata.name && !Final(s.status.phase);
        });
      });
  auto on_workload = [this](const std::string& kind) {
    return [this, kind](const std::string&, const auto& w) {
      EnqueueIf(w.metadata.namespace_, [&](const apis::RestoreSession& s) {
        return RefOf(s).kind == kind && RefOf(s).name == w.metadata.name;
      });
    };
  };
  deployments_ = std::make_unique<apis::Informer<apis::Deployment>>(
      client_, ns_, kube::ListOptions{}, clock_, on_workload("Deployment"));
  statefulsets_ = std::make_unique<apis::Informer<apis::StatefulSet>>(
      client_, ns_, kube::ListOptions{}, clock_, on_workload("StatefulSet"));
  daemonsets_ = std::make_unique<apis::Informer<apis::DaemonSet>>(client_, ns_, kube::ListOptions{},
                                                                  clock_, on_workload("DaemonSet"));
  claims_ = std::make_unique<apis::Informer<apis::PersistentVolumeClaim>>(
      client_, ns_, kube::ListOptions{}, clock_, on_workload("PersistentVolumeClaim"));
  kube::ListOptions job_opts;
  job_opts.label_selector = S(kLabelRestoreSession);
  jobs_ = std::make_unique<apis::Informer<apis::Job>>(
      client_, ns_, job_opts, clock_, [this](const std::string&, const apis::Job& j) {
        queue_.Add(j.metadata.namespace_ + "/" + j.metadata.Label(kLabelRestoreSession));
      });
  sessions_->Start();
  repositories_->Start();
  deployments_->Start();
  statefulsets_->Start();
  daemonsets_->Start();
  claims_->Start();
  jobs_->Start();
  for (int i = 0; i < 2; ++i) workers_.emplace_back([this] { Work(); });
}

void RestoreSessionController::Stop() {
  stop_ = true;
  queue_.Wake();
  apis::StopTogether(sessions_, repositories_, deployments_, statefulsets_, daemonsets_, claims_,
                     jobs_);
  for (auto& w : workers_) w.join();
  workers_.clear();
}

void RestoreSessionController::Work() {
  while (auto key = queue_.Get(stop_)) {
    size_t slash = key->find('/');
    Status s = Reconcile(key->substr(0, slash), key->substr(slash + 1));
    if (s.ok()) {
      queue_.Forget(*key);
    } else {
      spdlog::warn("reconciling RestoreSession {}: {}", *key, s.ToString());
      queue_.AddRateLimited(*key, std::chrono::seconds(30));
    }
    queue_.Done(*key);
  }
}

Status RestoreSessionController::Reconcile(const std::string& ns, const std::string& name) {
  auto got = apis::Get<apis::RestoreSession>(client_, ns, name);
  if (!got.ok()) return got.status().code() == Code::kNotFound ? Status::Ok() : got.status();
  apis::RestoreSession session = std::move(*got);
  if (!session.metadata.deletion_timestamp.empty()) return Finalize(session);
  if (!session.metadata.HasFinalizer(kube::kFinalizer)) {
    std::vector<std::string> fins = session.metadata.finalizers;
    fins.push_back(S(kube::kFinalizer));
    json patch = {{"metadata",
                   {{"finalizers", fins}, {"resourceVersion", session.metadata.resource_version}}}};
    STASH_ASSIGN_OR_RETURN(
        session, apis::MergePatch<apis::RestoreSession>(client_, session.metadata, patch));
  }
  if (Final(session.status.phase)) return Status::Ok();
  apis::RestoreSessionStatus status = session.status;
  if (status.phase == "Running") {
    STASH_RETURN_IF_ERROR(Progress(session, &status));
  } else {
    apis::Repository repository;
    STASH_ASSIGN_OR_RETURN(bool valid, Validate(session, &status, &repository));
    if (valid) STASH_RETURN_IF_ERROR(Start(session, repository, &status));
  }
  return WriteStatus(session, status);
}

Result<bool> RestoreSessionController::Validate(const apis::RestoreSession& session,
                                                apis::RestoreSessionStatus* status,
                                                apis::Repository* repository) {
  const SystemTime now = clock_.Now();
  const int64_t gen = session.metadata.generation;
  auto invalid = [&](std::string_view type, std::string_view reason, const std::string& message) {
    apis::SetCondition(&status->conditions, type, false, reason, message, now, gen);
    if (status->phase != "Invalid") {
      events_.Record(session, apis::kWarning, "RestoreSession Invalid", message).IgnoreError();
    }
    status->phase = "Invalid";
    return false;
  };
  if (Status v = ValidateRestoreSession(session); !v.ok()) {
    return invalid(kRestoreValidationPassed, "ValidationFailed", v.message());
  }
  apis::SetCondition(&status->conditions, kRestoreValidationPassed, true, "ValidationPassed",
                     "RestoreSession passed validation.", now, gen);
  const std::string repo_ns = session.spec.repository.namespace_.empty()
                                  ? session.metadata.namespace_
                                  : session.spec.repository.namespace_;
  const std::string repo_text = repo_ns + "/" + session.spec.repository.name;
  auto repo = apis::Get<apis::Repository>(client_, repo_ns, session.spec.repository.name);
  if (!repo.ok()) {
    if (repo.status().code() != Code::kNotFound) return repo.status();
    return invalid(kRestoreRepositoryFound, "RepositoryNotAvailable",
                   "Repository " + repo_text + " does not exist.");
  }
  if (repo_ns != session.metadata.namespace_) {
    const auto& policy = repo->spec.usage_policy;
    const std::string from = policy ? policy->allowed_namespaces.from : "";
    if (from != "All") {
      return invalid(kRestoreRepositoryFound, "RepositoryNotAllowed",
                     "Repository " + repo_text + " may not be used from namespace " +
                         session.metadata.namespace_ +
                         " (its spec.usagePolicy.allowedNamespaces.from is " +
                         (from.empty() ? "Same" : from) + "; All is needed)");
    }
  }
  apis::SetCondition(&status->conditions, kRestoreRepositoryFound, true, "RepositoryAvailable",
                     "Repository " + repo_text + " exist.", now, gen);
  const std::string secret_name = repo->spec.backend.storage_secret_name;
  if (secret_name.empty()) {
    return invalid(kRestoreBackendSecretFound, "BackendSecretNotAvailable",
                   "Repository " + repo_text + " has no spec.backend.storageSecretName.");
  }
  auto secret = apis::Get<apis::Secret>(client_, repo_ns, secret_name);
  if (!secret.ok()) {
    if (secret.status().code() != Code::kNotFound) return secret.status();
    return invalid(kRestoreBackendSecretFound, "BackendSecretNotAvailable",
                   "Backend Secret " + repo_ns + "/" + secret_name + " does not exist.");
  }
  if (!secret->data.count("RESTIC_PASSWORD") && !secret->string_data.count("RESTIC_PASSWORD")) {
    return invalid(kRestoreBackendSecretFound, "BackendSecretNotAvailable",
                   "Backend Secret " + repo_ns + "/" + secret_name +
                       " has no RESTIC_PASSWORD key (the repository's password).");
  }
  apis::SetCondition(&status->conditions, kRestoreBackendSecretFound, true,
                     "BackendSecretAvailable",
                     "Backend Secret " + repo_ns + "/" + secret_name + " exist.", now, gen);
  *repository = std::move(*repo);
  return true;
}

Status RestoreSessionController::Start(const apis::RestoreSession& session,
                                       const apis::Repository& repository,
                                       apis::RestoreSessionStatus* status) {
  if (ModeOf(session) == RestoreMode::kInitContainer) {
    return StartInitContainer(session, repository, status);
  }
  return StartJobs(session, repository, status);
}

Status RestoreSessionController::StartInitContainer(const apis::RestoreSession& session,
                                                    const apis::Repository& repository,
                                                    apis::RestoreSessionStatus* status) {
  const SystemTime now = clock_.Now();
  const int64_t gen = session.metadata.generation;
  const apis::TargetRef& ref = RefOf(session);
  const std::string& ns = session.metadata.namespace_;
  int32_t scheduled = 0;
  auto workload = GetWorkload(client_, ref.kind, ns, ref.name, &scheduled);
  const std::string target_text = "Restore target " +
                                  (ref.api_version.empty() ? "apps/v1" : ref.api_version) + " " +
                                  Lower(ref.kind) + "/" + ref.name;
  if (!workload.ok()) {
    if (workload.status().code() != Code::kNotFound) return workload.status();
    apis::SetCondition(&status->conditions, kRestoreTargetFound, false, "TargetNotAvailable",
                       target_text + " does not exist.", now, gen);
    status->phase = "Pending";
    return Status::Ok();
  }
  apis::SetCondition(&status->conditions, kRestoreTargetFound, true, "TargetAvailable",
                     target_text + " found.", now, gen);
  // One restore of a workload at a time: a newer session waits for the
  // running one (its init container stays until it ends).
  auto other = workload->metadata.annotations.find(S(kAnnotationRestoreInvoker));
  if (other != workload->metadata.annotations.end() && other->second != session.metadata.name) {
    auto running = apis::Get<apis::RestoreSession>(client_, ns, other->second);
    if (running.ok() && running->metadata.deletion_timestamp.empty() &&
        !Final(running->status.phase) && running->status.phase != "Invalid") {
      apis::SetCondition(&status->conditions, kStashInitContainerInjected, false,
                         "WaitingForAnotherRestore",
                         "RestoreSession " + ns + "/" + other->second + " is restoring " +
                             TargetText(session) + "; this one starts when it ends.",
                         now, gen);
      status->phase = "Pending";
      return Status::Ok();
    }
  }
  STASH_RETURN_IF_ERROR(EnsureRestoreRbac(session, repository, &*workload));
  auto changed = UpdateWorkload(client_, ref.kind, ns, ref.name,
                                [&](apis::PodTemplateSpec* t, apis::ObjectMeta* m) {
                                  return InjectRestoreInit(t, m, session, repository, image_);
                                });
  if (!changed.ok()) {
    if (changed.status().code() != Code::kInvalid) return changed.status();
    apis::SetCondition(&status->conditions, kStashInitContainerInjected, false,
                       "InitContainerInjectionFailed", changed.status().message(), now, gen);
    if (status->phase != "Invalid") {
      events_
          .Record(session, apis::kWarning, "Init-Container Injection Failed",
                  "Failed to inject stash init-container into " + TargetText(session) +
                      ". Reason: " + changed.status().message())
          .IgnoreError();
    }
    status->phase = "Invalid";
    return Status::Ok();
  }
  apis::SetCondition(&status->conditions, kStashInitContainerInjected, true,
                     "InitContainerInjectionSucceeded",
                     "Successfully injected stash init-container.", now, gen);
  if (*changed) {
    const std::string message =
        "Successfully injected stash init-container into " + TargetText(session) + ".";
    events_.Record(session, apis::kNormal, "Init-Container Injection Succeeded", message)
        .IgnoreError();
    events_
        .Record(WorkloadReference(*workload), apis::kNormal, "Init-Container Injection Succeeded",
                message)
        .IgnoreError();
  }
  status->total_hosts = TotalHosts(session, &*workload, scheduled);
  status->phase = "Running";
  if (!session.spec.time_out.empty() && status->session_deadline.empty()) {
    auto d = kube::ParseGoDuration(session.spec.time_out);
    if (d.ok()) status->session_deadline = kube::FormatTime(now + *d);
  }
  return Status::Ok();
}

Status RestoreSessionController::StartJobs(const apis::RestoreSession& session,
                                           const apis::Repository& repository,
                                           apis::RestoreSessionStatus* status) {
  const SystemTime now = clock_.Now();
  const int64_t gen = session.metadata.generation;
  const std::string& ns = session.metadata.namespace_;
  const apis::RestoreTarget& target = *session.spec.target;
  std::vector<int> ordinals;
  if (target.volume_claim_templates.empty()) {
    ordinals.push_back(-1);
    auto claim = apis::Get<apis::PersistentVolumeClaim>(client_, ns, target.ref.name);
    if (!claim.ok()) {
      if (claim.status().code() != Code::kNotFound) return claim.status();
      apis::SetCondition(
          &status->conditions, kRestoreTargetFound, false, "TargetNotAvailable",
          "Restore target v1 persistentvolumeclaim/" + target.ref.name + " does not exist.", now,
          gen);
      status->phase = "Pending";
      return Status::Ok();
    }
    apis::SetCondition(&status->conditions, kRestoreTargetFound, true, "TargetAvailable",
                       "Restore target v1 persistentvolumeclaim/" + target.ref.name + " found.",
                       now, gen);
  } else {
    const int32_t replicas = std::max<int32_t>(1, target.replicas.value_or(1));
    for (int i = 0; i < replicas; ++i) {
      ordinals.push_back(i);
      for (const apis::PersistentVolumeClaim& claim : RestoreClaims(session, i)) {
        auto made = apis::Create(client_, claim);
        if (!made.ok() && made.status().code() != Code::kAlreadyExists) return made.status();
      }
    }
    apis::SetCondition(&status->conditions, kRestoreTargetFound, true, "TargetAvailable",
                       "Restore target: claims of volumeClaimTemplates for " +
                           std::to_string(replicas) + " replicas.",
                       now, gen);
  }
  STASH_RETURN_IF_ERROR(EnsureRestoreRbac(session, repository, nullptr));
  bool created = false;
  for (int ordinal : ordinals) {
    auto made = apis::Create(client_, RestoreJob(session, repository, ordinal, image_));
    if (!made.ok() && made.status().code() != Code::kAlreadyExists) return made.status();
    created = created || made.ok();
  }
  apis::SetCondition(&status->conditions, kRestoreJobCreated, true, "RestoreJobCreationSucceeded",
                     "Successfully created restore job.", now, gen);
  if (created) {
    events_
        .Record(session, apis::kNormal, "Restore Job Created",
                "Created " + std::to_string(ordinals.size()) + " restore Job(s) " +
                    RestoreJobName(session, ordinals.front()) +
                    (ordinals.size() > 1 ? ", ..." : ""))
        .IgnoreError();
  }
  status->total_hosts = TotalHosts(session, nullptr, 0);
  status->phase = "Running";
  if (!session.spec.time_out.empty() && status->session_deadline.empty()) {
    auto d = kube::ParseGoDuration(session.spec.time_out);
    if (d.ok()) status->session_deadline = kube::FormatTime(now + *d);
  }
  return Status::Ok();
}

Status RestoreSessionController::EnsureRestoreRbac(const apis::RestoreSession& session,
                                                   const apis::Repository& repository,
                                                   const apis::Workload* workload) {
  RbacObjects objects = RestoreRbac(
      RbacOwnerOf(session), workload ? workload->template_.spec.service_account_name : "",
      repository.metadata.namespace_, repository.metadata.name,
      repository.spec.backend.storage_secret_name, workload != nullptr);
  Status s = EnsureRbac(client_, objects);
  if (!s.ok()) {
    return Status(s.code(), "RestoreSession " + session.metadata.namespace_ + "/" +
                                session.metadata.name +
                                ": granting the restore's pods their "
                                "permissions: " +
                                s.message());
  }
  return s;
}

Status RestoreSessionController::Progress(const apis::RestoreSession& session,
                                          apis::RestoreSessionStatus* status) {
  const SystemTime now = clock_.Now();
  const int64_t gen = session.metadata.generation;
  const int32_t total = status->total_hosts.value_or(1);
  const std::vector<std::string> hosts = HostsOf(session, total);
  std::string done = CompletedPhase(*status, total);
  if (done.empty() && ModeOf(session) == RestoreMode::kJob) {
    // A Job that gave up (or was deleted) never reports for its host.
    const auto& target = *session.spec.target;
    const int n = target.volume_claim_templates.empty() ? 1 : total;
    for (int i = 0; i < n; ++i) {
      const int ordinal = target.volume_claim_templates.empty() ? -1 : i;
      const std::string job_name = RestoreJobName(session, ordinal);
      auto job = apis::Get<apis::Job>(client_, session.metadata.namespace_, job_name);
      std::string reason;
      if (!job.ok()) {
        if (job.status().code() != Code::kNotFound) return job.status();
        reason = "restore Job " + job_name + " was deleted before it finished";
      } else {
        for (const apis::JobCondition& c : job->status.conditions) {
          if (c.status != "True") continue;
          if (c.type == "Failed") reason = "restore Job " + job_name + " failed: " + c.message;
          if (c.type == "Complete") reason = "restore Job " + job_name + " ended without a result";
        }
      }
      if (!reason.empty())
        FailOpenHosts(status, {"host-" + std::to_string(std::max(0, i))}, reason);
    }
    done = CompletedPhase(*status, total);
  } else if (done.empty()) {
    auto workload = GetWorkload(client_, RefOf(session).kind, session.metadata.namespace_,
                                RefOf(session).name, nullptr);
    if (!workload.ok() && workload.status().code() == Code::kNotFound) {
      FailOpenHosts(status, hosts, TargetText(session) + " was deleted during the restore");
      done = CompletedPhase(*status, total);
    }
  }
  if (done.empty() && !status->session_deadline.empty()) {
    auto deadline = kube::ParseTime(status->session_deadline);
    if (deadline.ok() && now >= *deadline) {
      const std::string reason =
          "the restore did not finish within spec.timeOut " + session.spec.time_out;
      FailOpenHosts(status, hosts, reason);
      apis::SetCondition(&status->conditions, kDeadlineExceeded, true, "DeadlineExceeded", reason,
                         now, gen);
      done = "Failed";
    } else if (deadline.ok()) {
      queue_.AddAfter(session.metadata.Key(), *deadline - now);
    }
  }
  if (done.empty()) return Status::Ok();
  status->phase = done;
  auto created = kube::ParseTime(session.metadata.creation_timestamp);
  status->session_duration = kube::FormatGoDuration(created.ok() ? now - *created : Duration(0));
  std::string failures;
  int succeeded = 0;
  for (const apis::HostRestoreStats& st : status->stats) {
    if (st.phase == "Succeeded") ++succeeded;
    if (st.phase != "Succeeded" && failures.empty()) {
      failures = "host \"" + st.hostname + "\" " + Lower(st.phase) +
                 (st.error.empty() ? "" : ": " + st.error);
    }
  }
  const std::string summary = "Restored " + std::to_string(succeeded) + " of " +
                              std::to_string(status->stats.size()) + " host(s) in " +
                              status->session_duration + ".";
  apis::SetCondition(&status->conditions, kRestoreCompleted, true,
                     done == "Succeeded" ? "RestoreSucceeded" : "RestoreFailed",
                     done == "Succeeded" ? summary : summary + " First problem: " + failures, now,
                     gen);
  if (done == "Succeeded") {
    events_.Record(session, apis::kNormal, "RestoreSession Succeeded", summary).IgnoreError();
  } else {
    events_.Record(session, apis::kWarning, "RestoreSession " + done, summary + " " + failures)
        .IgnoreError();
  }
  return Status::Ok();
}

Status RestoreSessionController::WriteStatus(const apis::RestoreSession& session,
                                             const apis::RestoreSessionStatus& status) {
  if (status == session.status) return Status::Ok();
  // Conditional on the version read: a host's stats written meanwhile make
  // this fail, and the requeue merges them.
  json patch = {{"status", apis::ToJson(status)},
                {"metadata", {{"resourceVersion", session.metadata.resource_version}}}};
  return apis::MergePatch<apis::RestoreSession>(client_, session.metadata, patch, "status")
      .status();
}

Status RestoreSessionController::Finalize(const apis::RestoreSession& session) {
  if (ModeOf(session) == RestoreMode::kInitContainer && !RefOf(session).name.empty()) {
    const apis::TargetRef& ref = RefOf(session);
    const std::string& ns = session.metadata.namespace_;
    auto changed =
        UpdateWorkload(client_, ref.kind, ns, ref.name,
                       [&](apis::PodTemplateSpec* t, apis::ObjectMeta* m) -> Result<bool> {
                         auto it = m->annotations.find(S(kAnnotationRestoreInvoker));
                         if (it == m->annotations.end() || it->second != session.metadata.name) {
                           return false;  // another session's, or none
                         }
                         return RemoveRestoreInit(t, m);
                       });
    if (!changed.ok() && changed.status().code() != Code::kNotFound) return changed.status();
    if (changed.ok() && *changed) {
      auto workload = GetWorkload(client_, ref.kind, ns, ref.name, nullptr);
      if (workload.ok()) {
        events_
            .Record(WorkloadReference(*workload), apis::kNormal,
                    "Init-Container Deletion Succeeded",
                    "Successfully removed stash init-container from " + TargetText(session) + ".")
            .IgnoreError();
      }
    }
  } else if (session.spec.target) {
    const auto& target = *session.spec.target;
    const int n = target.volume_claim_templates.empty()
                      ? 1
                      : std::max<int32_t>(1, target.replicas.value_or(1));
    for (int i = 0; i < n; ++i) {
      Status s = client_.Delete(
          kube::res::kJobs, session.metadata.namespace_,
          RestoreJobName(session, target.volume_claim_templates.empty() ? -1 : i), "Background");
      if (!s.ok() && s.code() != Code::kNotFound) return s;
    }
  }
  STASH_RETURN_IF_ERROR(
      RemoveRbac(client_, RbacOwnerOf(session),
                 {session.metadata.namespace_, session.spec.repository.namespace_}));
  std::vector<std::string> fins;
  for (const std::string& f : session.metadata.finalizers) {
    if (f != kube::kFinalizer) fins.push_back(f);
  }
  if (fins.size() == session.metadata.finalizers.size()) return Status::Ok();
  json patch = {
      {"metadata", {{"finalizers", fins}, {"resourceVersion", session.metadata.resource_version}}}};
  auto patched = apis::MergePatch<apis::RestoreSession>(client_, session.metadata, patch);
  if (!patched.ok() && patched.status().code() != Code::kNotFound) return patched.status();
  return Status::Ok();
}

}  // namespace stash::controller
