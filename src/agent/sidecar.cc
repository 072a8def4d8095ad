#include "stash/agent/sidecar.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "stash/agent/format.h"
#include "stash/agent/lease.h"
#include "stash/agent/metrics_push.h"
#include "stash/agent/probe.h"
#include "stash/apis/backup.h"
#include "stash/apis/codec.h"
#include "stash/apis/metrics.h"
#include "stash/apis/repository.h"
#include "stash/kube/duration.h"
#include "stash/kube/informer.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

namespace {

using kube::json;
namespace res = kube::res;

std::string S(std::string_view v) { return std::string(v); }

// 401 (a token not accepted) or 403 (a permission missing).
bool IsDenial(const Status& s) {
  return s.code() == Code::kUnauthorized || s.code() == Code::kForbidden;
}

bool IsFinal(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Skipped" || phase == "Unknown";
}

json Condition(std::string_view type, bool ok, std::string_view reason, std::string_view message,
               SystemTime now) {
  return {{"type", type},
          {"status", ok ? "True" : "False"},
          {"reason", reason},
          {"message", message},
          {"lastTransitionTime", kube::FormatTime(now)}};
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return char(tolower(c)); });
  return s;
}

// How long a hook may take: kubelet's probes get 1 s by default, but a hook
// quiesces an application (a flush, a dump), so Stash's executor waits longer.
constexpr Duration kHookTimeout = std::chrono::seconds(30);
// How often a Running session's status.progress is written.
constexpr Duration kProgressInterval = std::chrono::seconds(2);

// The pod a hook runs against: the sidecar shares the workload pod's network
// (and, on the embedded node, the node's), so the workload listens on
// 127.0.0.1; named ports and the environment come from its containers.
HookTarget WorkloadHookTarget(const json& workload, const std::string& container) {
  HookTarget t;
  for (const json& c :
       workload.value("/spec/template/spec/containers"_json_pointer, json::array())) {
    for (const json& p : c.value("ports", json::array())) {
      if (p.contains("name") && p.contains("containerPort")) {
        t.named_ports.emplace(p["name"].get<std::string>(), p["containerPort"].get<int>());
      }
    }
    if (!container.empty() && c.value("name", "") != container) continue;
    for (const json& e : c.value("env", json::array())) {
      if (e.contains("value")) t.env[e.value("name", "")] = e["value"].get<std::string>();
    }
  }
  return t;
}

// status.progress from restic's "status" message; the rate is the bytes
// done since the previous report over the time between them.
json ProgressStatus(const json& st, double bytes_per_second) {
  char pct[16];
  snprintf(pct, sizeof pct, "%.2f%%", st.value("percent_done", 0.0) * 100);
  json p = {{"percent", pct},
            {"filesDone", st.value("files_done", uint64_t{0})},
            {"totalFiles", st.value("total_files", uint64_t{0})},
            {"bytesDone", st.value("bytes_done", uint64_t{0})},
            {"totalBytes", st.value("total_bytes", uint64_t{0})},
            {"rate", FormatBytes(static_cast<uint64_t>(bytes_per_second)) + "/s"}};
  // restic omits seconds_remaining while it is 0: in the first whole second,
  // and when the rest takes under a second. Both still deserve an ETA, from
  // the rate measured here.
  const uint64_t remaining = st.value("seconds_remaining", uint64_t{0});
  const uint64_t total = st.value("total_bytes", uint64_t{0});
  const uint64_t done = st.value("bytes_done", uint64_t{0});
  if (remaining > 0) {
    p["eta"] = FormatGoDuration(std::chrono::seconds(remaining));
  } else if (bytes_per_second > 0 && total > done) {
    const double secs = std::ceil(static_cast<double>(total - done) / bytes_per_second);
    p["eta"] = FormatGoDuration(std::chrono::seconds(static_cast<int64_t>(secs)));
  }
  return p;
}

}  // namespace

BackupSidecar::BackupSidecar(const kube::Client& client, Clock& clock, BackupRunner& runner,
                             SidecarOptions opts)
    : client_(client),
      clock_(clock),
      runner_(runner),
      opts_(std::move(opts)),
      session_events_(client, clock, S(kube::kSourceBackupSessionController)),
      updater_events_(client, clock, S(kube::kSourceStatusUpdater)),
      sidecar_events_(client, clock, S(kube::kSourceBackupSidecar)) {}

std::string BackupSidecar::HostName() const {
  if (opts_.target_kind == "StatefulSet") {
    std::string ordinal = opts_.pod_name.substr(opts_.pod_name.rfind('-') + 1);
    return "host-" + ordinal;
  }
  if (opts_.target_kind == "DaemonSet" && !opts_.node_name.empty()) return opts_.node_name;
  return "host-0";
}

std::string BackupSidecar::LeaseName() const {
  return "lock-" + Lower(opts_.invoker_kind) + "-" + opts_.invoker_name + "-backup";
}

bool BackupSidecar::Matches(const json& s) const {
  if (s.value("/spec/invoker/name"_json_pointer, "") == opts_.invoker_name &&
      s.value("/spec/invoker/kind"_json_pointer, opts_.invoker_kind) == opts_.invoker_kind) {
    return true;
  }
  json labels = s.value("/metadata/labels"_json_pointer, json::object());
  return labels.value(S(kube::kLabelInvokerName), "") == opts_.invoker_name ||
         labels.value(S(kube::kLabelBackupConfiguration), "") == opts_.invoker_name;
}

Status BackupSidecar::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  LeaderLease lease(client_, clock_, opts_.ns, LeaseName(),
                    opts_.pod_name.empty() ? "stash-sidecar" : opts_.pod_name);
  spdlog::info("run-backup: {} {}/{}: one replica backs up; taking the lead through Lease {}",
               opts_.invoker_kind, opts_.ns, opts_.invoker_name, LeaseName());
  while (true) {
    auto got = lease.TryAcquireOrRenew();
    if (got.ok() && *got) break;
    Duration wait = std::chrono::seconds(2);
    if (!got.ok() && IsDenial(got.status())) {
      wait = Denied(Status(got.status()).Prepend("acquiring Lease " + LeaseName()));
    } else if (!got.ok()) {
      spdlog::warn("acquiring lease {}: {}", LeaseName(), got.status().ToString());
    }
    if (!kube::SleepUnlessStopped(clock_, wait, stop)) return Status::Ok();
  }
  NotDenied();
  spdlog::info("run-backup: leading {} for {} {}/{}", LeaseName(), opts_.invoker_kind, opts_.ns,
               opts_.invoker_name);
  if (auto bc = client_.Get(res::kBackupConfigurations, opts_.ns, opts_.invoker_name); bc.ok()) {
    json obj = *bc;
    obj["apiVersion"] = res::kBackupConfigurations.ApiVersion();
    obj["kind"] = res::kBackupConfigurations.kind;
    sidecar_events_
        .Record(obj, kube::kNormal, "BackupSession Controller Started",
                "BackupSession controller started successfully in pod " + opts_.ns + "/" +
                    opts_.pod_name + ".")
        .IgnoreError();
  }
  if (Status s = FailInterrupted(); !s.ok()) spdlog::warn("{}", s.ToString());

  std::mutex mu;
  std::deque<std::string> queue;
  std::set<std::string> queued;
  kube::Informer sessions(client_, res::kBackupSessions, opts_.ns, kube::ListOptions{}, clock_,
                          [&](const std::string& type, const json& obj) {
                            if (type == "DELETED" || !Matches(obj)) return;
                            std::string phase = obj.value("/status/phase"_json_pointer, "");
                            if (!phase.empty() && phase != "Pending") return;
                            std::lock_guard<std::mutex> lock(mu);
                            std::string name = obj["metadata"].value("name", "");
                            if (queued.insert(name).second) queue.push_back(name);
                          });
  sessions.Start();
  // Renewed from its own thread, so a backup longer than the lease (one
  // waiting on another configuration's lock of a shared repository) keeps it.
  auto renewer = std::make_unique<LeaseRenewer>(lease);
  Status result;
  while (!stop.load()) {
    std::string name;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!queue.empty()) {
        name = queue.front();
        queue.pop_front();
        queued.erase(name);
      }
    }
    if (renewer->lost()) {
      result = UnavailableError("lost the lease " + LeaseName() + " to another replica");
      break;
    }
    if (name.empty()) {
      clock_.SleepUntil(clock_.Now() + std::chrono::milliseconds(100));
      continue;
    }
    if (Status s = ProcessSession(name); !s.ok()) {
      if (IsDenial(s)) {
        // Kept queued: the session runs once the permission is granted.
        kube::SleepUnlessStopped(
            clock_, Denied(Status(s).Prepend("BackupSession " + opts_.ns + "/" + name)), stop);
        std::lock_guard<std::mutex> lock(mu);
        if (queued.insert(name).second) queue.push_back(name);
        continue;
      }
      spdlog::warn("BackupSession {}/{}: {}", opts_.ns, name, s.ToString());
      if (s.retryable()) {
        kube::SleepUnlessStopped(clock_, std::chrono::seconds(2), stop);
        std::lock_guard<std::mutex> lock(mu);
        if (queued.insert(name).second) queue.push_back(name);
      }
    } else {
      NotDenied();
    }
  }
  sessions.Stop();
  renewer.reset();
  lease.Release();
  return result;
}

Duration BackupSidecar::Denied(const Status& s) {
  denied_wait_ = denied_wait_ == Duration{}
                     ? Duration(std::chrono::seconds(2))
                     : std::min<Duration>(denied_wait_ * 2, std::chrono::minutes(5));
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(denied_wait_).count();
  spdlog::error(
      "run-backup: denied by the API server: {}. This pod's ServiceAccount lacks a permission the "
      "operator grants through Role/RoleBinding stash-backup-{} (or the token is not accepted); "
      "retrying in {}s",
      s.ToString(), opts_.invoker_name, secs);
  if (s.message() != denied_message_) {
    // The event may be denied as well; the log above says it anyway.
    json bc = {{"apiVersion", res::kBackupConfigurations.ApiVersion()},
               {"kind", res::kBackupConfigurations.kind},
               {"metadata", {{"name", opts_.invoker_name}, {"namespace", opts_.ns}}}};
    Status e =
        sidecar_events_.Record(bc, kube::kWarning, "Permission Denied",
                               "The stash sidecar in pod " + opts_.ns + "/" + opts_.pod_name +
                                   " was denied: " + s.message() + " (retrying with back-off)");
    if (e.ok()) denied_message_ = s.message();
  }
  return denied_wait_;
}

Status BackupSidecar::FailInterrupted() {
  try {
    return FailInterruptedUnguarded();
  } catch (const std::exception& e) {
    return InternalError("ending interrupted BackupSessions: " + std::string(e.what()));
  }
}

Status BackupSidecar::FailInterruptedUnguarded() {
  STASH_ASSIGN_OR_RETURN(json list, client_.List(res::kBackupSessions, opts_.ns));
  bool interrupted = false;
  for (const json& s : list.value("items", json::array())) {
    if (!Matches(s) || s.value("/status/phase"_json_pointer, "") != "Running") continue;
    std::string name = s["metadata"].value("name", "");
    SystemTime now = clock_.Now();
    std::string started = s.value("/metadata/creationTimestamp"_json_pointer, "");
    auto created = kube::ParseTime(started);
    std::string error = "failed to complete backup for host " + HostName() +
                        ". Reason: the backup was interrupted (its process was killed or the node "
                        "restarted); the next scheduled backup will run normally.";
    json target = s.value("/status/targets/0"_json_pointer, json::object());
    target["phase"] = "Failed";
    target["stats"] =
        json::array({{{"hostname", HostName()}, {"phase", "Failed"}, {"error", error}}});
    target["conditions"] = json::array(
        {Condition("BackupDisrupted", true, "FailedToCompleteDueToDisruption", error, now)});
    json status = {{"phase", "Failed"}, {"targets", json::array({target})}};
    if (created.ok()) status["sessionDuration"] = FormatGoDuration(now - *created);
    auto p = client_.Patch(res::kBackupSessions, opts_.ns, name, kube::PatchType::kMerge,
                           {{"status", status}}, "status");
    if (!p.ok()) return p.status();
    json obj = s;
    obj["apiVersion"] = res::kBackupSessions.ApiVersion();
    obj["kind"] = res::kBackupSessions.kind;
    updater_events_.Record(obj, kube::kWarning, "Host Backup Failed", error).IgnoreError();
    spdlog::warn("BackupSession {}/{} was left Running; marked Failed", opts_.ns, name);
    interrupted = true;
  }
  if (interrupted) RemoveStaleLocks();
  return Status::Ok();
}

void BackupSidecar::RemoveStaleLocks() {
  auto bc = client_.Get(res::kBackupConfigurations, opts_.ns, opts_.invoker_name);
  if (!bc.ok()) return;
  std::string repo_ns = bc->value("/spec/repository/namespace"_json_pointer, opts_.ns);
  auto repo =
      client_.Get(res::kRepositories, repo_ns, bc->value("/spec/repository/name"_json_pointer, ""));
  if (!repo.ok()) return;
  auto secret = client_.Get(res::kSecrets, repo_ns,
                            repo->value("/spec/backend/storageSecretName"_json_pointer, ""));
  if (!secret.ok()) return;
  auto target = ResolveRepository(*repo, *secret, opts_.data_dir);
  if (!target.ok()) return;
  if (Status s = runner_.Unlock(*target); !s.ok()) spdlog::warn("{}", s.ToString());
}

Status BackupSidecar::ProcessSession(const std::string& name) {
  // Objects from the server are JSON of any shape; a surprise in one must end
  // as an error on that session, not as a crash of the sidecar.
  try {
    return ProcessSessionUnguarded(name);
  } catch (const std::exception& e) {
    return InternalError("processing BackupSession " + opts_.ns + "/" + name + ": " + e.what());
  }
}

Status BackupSidecar::ProcessSessionUnguarded(const std::string& name) {
  auto got = client_.Get(res::kBackupSessions, opts_.ns, name);
  if (!got.ok()) return got.status().code() == Code::kNotFound ? Status::Ok() : got.status();
  json session = std::move(*got);
  session["apiVersion"] = res::kBackupSessions.ApiVersion();
  session["kind"] = res::kBackupSessions.kind;
  std::string phase = session.value("/status/phase"_json_pointer, "");
  if ((!phase.empty() && phase != "Pending") || !Matches(session)) return Status::Ok();
  auto bc = client_.Get(res::kBackupConfigurations, opts_.ns, opts_.invoker_name);
  if (!bc.ok()) {
    // A missing invoker is the operator's to report (it skips the session).
    return bc.status().code() == Code::kNotFound ? Status::Ok() : bc.status();
  }
  (*bc)["apiVersion"] = res::kBackupConfigurations.ApiVersion();
  (*bc)["kind"] = res::kBackupConfigurations.kind;
  if (bc->value("/spec/paused"_json_pointer, false)) {
    STASH_RETURN_IF_ERROR(Skip(session));
    CleanupHistory(*bc);
    return Status::Ok();
  }
  if (bc->value("/status/phase"_json_pointer, "") != "Ready") return Status::Ok();
  Status s = Execute(session, *bc);
  CleanupHistory(*bc);
  return s;
}

Status BackupSidecar::Skip(const json& session) {
  std::string name = session["metadata"].value("name", "");
  spdlog::info("Skipping processing BackupSession {}/{}. Reason: Backup Configuration is paused.",
               opts_.ns, name);
  auto p = client_.Patch(res::kBackupSessions, opts_.ns, name, kube::PatchType::kMerge,
                         {{"status", {{"phase", "Skipped"}}}}, "status");
  if (!p.ok()) return p.status();
  return session_events_.Record(session, kube::kWarning, "BackupSessionSkipped",
                                "Backup Configuration is paused");
}

Status BackupSidecar::Execute(const json& session, const json& bc) {
  const std::string name = session["metadata"].value("name", "");
  const json spec = bc.value("spec", json::object());
  const SystemTime start = clock_.Now();
  const std::string host = spec.value("/target/alias"_json_pointer, "").empty()
                               ? HostName()
                               : spec.value("/target/alias"_json_pointer, "");
  json ref = spec.value("/target/ref"_json_pointer, json::object());
  json target = {{"ref", ref}, {"totalHosts", 1}, {"phase", "Running"}};
  json running = {{"phase", "Running"}, {"targets", json::array({target})}};
  std::optional<SystemTime> deadline;
  std::string time_out = spec.value("timeOut", "");
  if (!time_out.empty()) {
    auto d = kube::ParseGoDuration(time_out);
    auto created = kube::ParseTime(session.value("/metadata/creationTimestamp"_json_pointer, ""));
    if (d.ok() && created.ok()) {
      deadline = *created + *d;
      running["sessionDeadline"] = kube::FormatTime(*deadline);
    }
  }
  STASH_RETURN_IF_ERROR(client_.Patch(res::kBackupSessions, opts_.ns, name, kube::PatchType::kMerge,
                                      {{"status", running}}, "status"));

  json conditions = json::array();
  json target_conditions = json::array();
  json snapshots = json::array();
  json repo_status;
  json repository;
  Status failure;
  // Each step runs only while everything before it succeeded.
  const bool expired = RunWithDeadline(deadline, [&] {
    // A failed preBackup hook fails the session before anything is backed up.
    if (Status hook = RunHook(bc, "preBackup", "", &target_conditions); !hook.ok()) {
      return void(failure = hook);
    }
    std::string repo_ns = spec.value("/repository/namespace"_json_pointer, opts_.ns);
    auto repo =
        client_.Get(res::kRepositories, repo_ns, spec.value("/repository/name"_json_pointer, ""));
    if (!repo.ok()) return void(failure = repo.status());
    repository = *repo;
    auto secret = client_.Get(res::kSecrets, repo_ns,
                              repository.value("/spec/backend/storageSecretName"_json_pointer, ""));
    if (!secret.ok()) return void(failure = secret.status());
    auto target_repo = ResolveRepository(repository, *secret, opts_.data_dir);
    if (!target_repo.ok()) return void(failure = target_repo.status());

    auto created = runner_.EnsureRepository(*target_repo);
    SystemTime now = clock_.Now();
    if (!created.ok()) {
      conditions.push_back(Condition(
          "BackendRepositoryInitialized", false, "FailedToInitializeBackendRepository",
          "Failed to initialize backend repository. Reason: " + created.status().message(), now));
      return void(failure = created.status());
    }
    conditions.push_back(
        Condition("BackendRepositoryInitialized", true,
                  *created ? "BackendRepositoryInitialized" : "BackendRepositoryFound",
                  *created ? "Successfully initialized backend repository."
                           : "Repository exist in the backend.",
                  now));
    std::vector<std::string> excludes;
    for (const json& e : spec.value("/target/exclude"_json_pointer, json::array())) {
      excludes.push_back(e.get<std::string>());
    }
    // Live progress: status.progress every few seconds while paths are read.
    SystemTime last_report{};
    uint64_t last_bytes = 0;
    runner_.OnProgress([&](const json& st) {
      const SystemTime now = clock_.Now();
      if (now - last_report < kProgressInterval) return;
      const uint64_t bytes = st.value("bytes_done", uint64_t{0});
      const double secs = std::chrono::duration<double>(now - last_report).count();
      const double rate = last_report == SystemTime{} || bytes < last_bytes
                              ? 0
                              : static_cast<double>(bytes - last_bytes) / secs;
      last_report = now;
      last_bytes = bytes;
      client_
          .Patch(res::kBackupSessions, opts_.ns, name, kube::PatchType::kMerge,
                 {{"status", {{"progress", ProgressStatus(st, rate)}}}}, "status")
          .status()
          .IgnoreError();  // a missed update is replaced by the next one
    });
    for (const json& p : spec.value("/target/paths"_json_pointer, json::array())) {
      std::string path = p.get<std::string>();
      auto snap = runner_.Backup(*target_repo, host, {path}, excludes, opts_.path_map);
      if (!snap.ok()) return void(failure = snap.status());
      if (snap->partial) {
        failure = IncompleteError("some files under " + path + " could not be read; snapshot " +
                                  snap->snapshot_id.substr(0, 8) + " is incomplete");
      }
      snapshots.push_back({{"name", snap->snapshot_id.substr(0, 8)},
                           {"path", path},
                           {"totalSize", FormatBytes(snap->total_bytes)},
                           {"uploaded", FormatBytes(snap->data_added)},
                           {"processingTime", FormatProcessingTime(snap->processing_seconds)},
                           {"fileStats",
                            {{"totalFiles", snap->total_files},
                             {"newFiles", snap->new_files},
                             {"modifiedFiles", snap->modified_files},
                             {"unmodifiedFiles", snap->unmodified_files}}}});
      if (!failure.ok()) return;
    }
    repo_status = json::object();
    if (spec.contains("retentionPolicy")) {
      auto kept = runner_.ApplyRetention(*target_repo, spec["retentionPolicy"]);
      now = clock_.Now();
      if (!kept.ok()) {
        conditions.push_back(
            Condition("RetentionPolicyApplied", false, "FailedToApplyRetentionPolicy",
                      "Failed to apply retention policy. Reason: " + kept.status().message(), now));
        return void(failure = kept.status());
      }
      conditions.push_back(Condition("RetentionPolicyApplied", true,
                                     "SuccessfullyAppliedRetentionPolicy",
                                     "Successfully applied retention policy.", now));
      repo_status["snapshotsRemovedOnLastCleanup"] = kept->removed;
    }
    Status check = runner_.Check(*target_repo);
    now = clock_.Now();
    repo_status["integrity"] = check.ok();
    conditions.push_back(Condition(
        "RepositoryIntegrityVerified", check.ok(),
        check.ok() ? "SuccessfullyVerifiedRepositoryIntegrity"
                   : "FailedToVerifyRepositoryIntegrity",
        check.ok() ? "Repository integrity verification succeeded."
                   : "Repository integrity verification failed. Reason: " + check.message(),
        now));
    if (!check.ok()) failure = check;
    auto stats = runner_.Stats(*target_repo);
    if (stats.ok()) {
      repo_status["totalSize"] = FormatBytes(stats->total_size);
      repo_status["snapshotCount"] = stats->snapshot_count;
    } else if (failure.ok()) {
      failure = stats.status();
    }
  });
  runner_.OnProgress({});
  if (expired) {
    std::string message = "Failed to complete backup within " + time_out + ".";
    conditions.push_back(Condition("DeadlineExceeded", true, "FailedToCompleteWithinDeadline",
                                   message, clock_.Now()));
    failure = TimeoutError(message);
  }

  // postBackup runs whatever happened (its executionPolicy decides), and
  // fails the target when it fails.
  if (Status hook = RunHook(bc, "postBackup", failure.ok() ? "Succeeded" : "Failed",
                            &target_conditions, session.value("/spec/retryLeft"_json_pointer, 0));
      !hook.ok() && failure.ok()) {
    failure = hook;
  }
  const SystemTime end = clock_.Now();
  const bool ok = failure.ok();
  json host_stats = {{"hostname", host},
                     {"phase", ok ? "Succeeded" : "Failed"},
                     {"duration", FormatGoDuration(end - start, std::chrono::milliseconds(1))}};
  if (!snapshots.empty()) host_stats["snapshots"] = snapshots;
  std::string error;
  if (!ok) {
    error = "failed to complete backup for host " + host + ". Reason: " + failure.message();
    host_stats["error"] = error;
  }
  target["phase"] = ok ? "Succeeded" : "Failed";
  target["stats"] = json::array({host_stats});
  if (!target_conditions.empty()) target["conditions"] = target_conditions;
  json status = {{"phase", ok ? "Succeeded" : "Failed"},
                 {"progress", nullptr},  // only while Running
                 {"sessionDuration", FormatGoDuration(end - start)},
                 {"targets", json::array({target})},
                 {"conditions", conditions}};
  auto p = client_.Patch(res::kBackupSessions, opts_.ns, name, kube::PatchType::kMerge,
                         {{"status", status}}, "status");
  if (!p.ok()) return p.status();
  if (repo_status.is_object() && !repository.is_null()) {
    UpdateRepositoryStatus(repository, session, repo_status).IgnoreError();
  }
  if (opts_.metrics_enabled) {
    if (Status pushed = PushSessionMetrics(name, bc, repository); !pushed.ok()) {
      spdlog::warn("BackupSession {}/{}: {}", opts_.ns, name, pushed.ToString());
    }
  }
  std::string bc_id = "\"" + opts_.ns + "\"/\"" + opts_.invoker_name + "\"";
  if (ok) {
    updater_events_
        .Record(session, kube::kNormal, "Host Backup Succeeded",
                "backup succeeded for host " + host + " of " + bc_id + ".")
        .IgnoreError();
  } else {
    updater_events_
        .Record(session, kube::kWarning, "Host Backup Failed",
                "backup failed for host \"" + host + "\" of " + bc_id +
                    ". Reason: " + failure.message())
        .IgnoreError();
  }
  spdlog::info("BackupSession {}/{}: {}{}", opts_.ns, name, ok ? "Succeeded" : "Failed",
               ok ? "" : " (" + error + ")");
  return Status::Ok();
}

bool BackupSidecar::RunWithDeadline(std::optional<SystemTime> deadline,
                                    const std::function<void()>& work) {
  if (!deadline) {
    work();
    return false;
  }
  if (clock_.Now() >= *deadline) return true;  // waited past it: nothing to start
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> expired{false};
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    // Polls the injected clock; a real one moves on its own.
    while (!done && clock_.Now() < *deadline) cv.wait_for(lock, std::chrono::milliseconds(50));
    if (done) return;
    expired = true;
    spdlog::warn("BackupSession of {}/{} passed its deadline; stopping the backup", opts_.ns,
                 opts_.invoker_name);
    if (opts_.cancel) opts_.cancel->store(true);
  });
  work();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  // The next session starts unstopped, unless the sidecar itself is stopping.
  if (expired && opts_.cancel) opts_.cancel->store(stop_ != nullptr && stop_->load());
  return expired;
}

Status BackupSidecar::RunHook(const json& bc, const std::string& which, const std::string& phase,
                              json* conditions, int retry_left) {
  const json* spec = bc.contains("/spec/hooks"_json_pointer / which)
                         ? &bc.at("/spec/hooks"_json_pointer / which)
                         : nullptr;
  if (spec == nullptr || spec->is_null()) return Status::Ok();
  const bool pre = which == "preBackup";
  const std::string type =
      pre ? "PreBackupHookExecutionSucceeded" : "PostBackupHookExecutionSucceeded";
  const std::string title = pre ? "PreBackup" : "PostBackup";
  auto handler = apis::FromJson<apis::Handler>(*spec);
  Status result;
  if (!handler.ok()) {
    result = handler.status();
  } else if (!pre && !AllowedByExecutionPolicy(handler->execution_policy, phase, retry_left)) {
    return Status::Ok();  // not for this outcome
  } else {
    json workload;
    std::string kind = bc.value("/spec/target/ref/kind"_json_pointer, "");
    if (auto r = kube::WorkloadResource(kind); r.ok()) {
      auto got = client_.Get(*r, opts_.ns, bc.value("/spec/target/ref/name"_json_pointer, ""));
      if (got.ok()) workload = std::move(*got);
    }
    spdlog::info("BackupSession of {}/{}: running the {} hook", opts_.ns, opts_.invoker_name,
                 which);
    result =
        RunHandler(*handler, WorkloadHookTarget(workload, handler->container_name), kHookTimeout);
  }
  const SystemTime now = clock_.Now();
  if (result.ok()) {
    conditions->push_back(Condition(type, true, "SuccessfullyExecuted" + title + "Hook",
                                    "Successfully executed " + which + " hook.", now));
    return Status::Ok();
  }
  std::string message = "Failed to execute " + which + " hook. Reason: " + result.message();
  conditions->push_back(Condition(type, false, "FailedToExecute" + title + "Hook", message, now));
  return Status(result.code(), message);
}

Status BackupSidecar::PushSessionMetrics(const std::string& session_name, const json& bc,
                                         const json& repository) {
  // The objects as written, so the pushed values are the status' values.
  STASH_ASSIGN_OR_RETURN(json session_obj,
                         client_.Get(res::kBackupSessions, opts_.ns, session_name));
  STASH_ASSIGN_OR_RETURN(auto session, apis::FromJson<apis::BackupSession>(session_obj));
  STASH_ASSIGN_OR_RETURN(auto config, apis::FromJson<apis::BackupConfiguration>(bc));
  if (session.spec.invoker.kind.empty()) session.spec.invoker.kind = opts_.invoker_kind;
  MetricsRegistry m;
  Status families = apis::SetBackupSessionFamilies(m, config, session, opts_.metrics_labels);
  if (!families.ok()) spdlog::warn("metrics of {}: {}", session_name, families.message());
  if (repository.is_object()) {
    auto repo_obj = client_.Get(res::kRepositories, repository["metadata"].value("namespace", ""),
                                repository["metadata"].value("name", ""));
    auto repo = repo_obj.ok() ? apis::FromJson<apis::Repository>(*repo_obj)
                              : Result<apis::Repository>(repo_obj.status());
    if (repo.ok()) {
      apis::SetRepositoryMetrics(
          m,
          apis::UpsertLabels(
              apis::BackupInvokerLabels(opts_.invoker_kind, config, opts_.metrics_labels),
              apis::RepositoryLabels(*repo)),
          repo->status)
          .IgnoreError();
    }
  }
  return PushMetrics(opts_.pushgateway_url,
                     MetricsJobName(opts_.invoker_kind, opts_.ns, opts_.invoker_name),
                     m.Exposition());
}

Status BackupSidecar::UpdateRepositoryStatus(const json& repository, const json& session,
                                             const json& repo_status) {
  json status = repo_status;
  std::string created =
      session.value("/metadata/creationTimestamp"_json_pointer, kube::FormatTime(clock_.Now()));
  status["lastBackupTime"] = created;
  if (!repository.contains("/status/firstBackupTime"_json_pointer)) {
    status["firstBackupTime"] = created;
  }
  status["observedGeneration"] = repository.value("/metadata/generation"_json_pointer, int64_t{1});
  auto p = client_.Patch(res::kRepositories, repository["metadata"].value("namespace", ""),
                         repository["metadata"].value("name", ""), kube::PatchType::kMerge,
                         {{"status", status}}, "status");
  return p.ok() ? Status::Ok() : p.status();
}

void BackupSidecar::CleanupHistory(const json& bc) {
  int64_t limit = bc.value("/spec/backupHistoryLimit"_json_pointer, int64_t{1});
  kube::ListOptions opts;
  opts.label_selector = S(kube::kLabelInvokerName) + "=" + opts_.invoker_name;
  auto list = client_.List(res::kBackupSessions, opts_.ns, opts);
  if (!list.ok()) return;
  std::vector<json> items = list->value("items", json::array());
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    auto key = [](const json& o) {
      return std::make_pair(o.value("/metadata/creationTimestamp"_json_pointer, ""),
                            o.value("/metadata/name"_json_pointer, ""));
    };
    return key(a) > key(b);
  });
  bool kept_last_complete = false;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string phase = items[i].value("/status/phase"_json_pointer, "");
    bool done = phase == "Succeeded" || phase == "Failed";
    if (i < size_t(std::max<int64_t>(limit, 0))) {
      kept_last_complete |= done;
      continue;
    }
    if (!IsFinal(phase)) continue;
    if (done && !kept_last_complete && limit > 0) {
      kept_last_complete = true;  // the latest completed run stays visible
      continue;
    }
    client_
        .Delete(res::kBackupSessions, opts_.ns, items[i]["metadata"].value("name", ""),
                "Background")
        .IgnoreError();
  }
}

}  // namespace stash::agent
