#include "stash/agent/sidecar.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "stash/agent/authorized.h"
#include "stash/agent/format.h"
#include "stash/agent/host_status.h"
#include "stash/agent/lease.h"
#include "stash/agent/metrics_push.h"
#include "stash/agent/probe.h"
#include "stash/apis/apps.h"
#include "stash/apis/client.h"
#include "stash/apis/informer.h"
#include "stash/apis/metrics.h"
#include "stash/apis/repository.h"
#include "stash/engine/restore_rules.h"
#include "stash/kube/duration.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

namespace {

using apis::BackupConfiguration;
using apis::BackupSession;

std::string S(std::string_view v) { return std::string(v); }

apis::Condition Cond(std::string_view type, bool ok, std::string_view reason,
                     std::string_view message, SystemTime now) {
  apis::Condition c;
  c.type = type;
  c.status = ok ? "True" : "False";
  c.reason = reason;
  c.message = message;
  c.last_transition_time = kube::FormatTime(now);
  return c;
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

// The pod template of the backup target (Deployment, StatefulSet, DaemonSet).
Result<apis::PodTemplateSpec> TargetTemplate(const kube::Client& client, const apis::TargetRef& ref,
                                             const std::string& ns) {
  if (ref.kind == "Deployment") {
    STASH_ASSIGN_OR_RETURN(auto d, apis::Get<apis::Deployment>(client, ns, ref.name));
    return apis::Workload::Of(d).template_;
  }
  if (ref.kind == "StatefulSet") {
    STASH_ASSIGN_OR_RETURN(auto s, apis::Get<apis::StatefulSet>(client, ns, ref.name));
    return apis::Workload::Of(s).template_;
  }
  if (ref.kind == "DaemonSet") {
    STASH_ASSIGN_OR_RETURN(auto d, apis::Get<apis::DaemonSet>(client, ns, ref.name));
    return apis::Workload::Of(d).template_;
  }
  return InvalidError("backup target kind " + ref.kind + " has no pod template");
}

// The pod a hook runs against: the sidecar shares the workload pod's network
// (and, on the embedded node, the node's), so the workload listens on
// 127.0.0.1; named ports and the environment come from its containers.
HookTarget WorkloadHookTarget(const apis::PodTemplateSpec& tmpl, const std::string& container) {
  HookTarget t;
  for (const apis::Container& c : tmpl.spec.containers) {
    for (const apis::ContainerPort& p : c.ports) {
      if (!p.name.empty()) t.named_ports.emplace(p.name, p.container_port);
    }
    if (!container.empty() && c.name != container) continue;
    for (const apis::EnvVar& e : c.env) {
      if (!e.value_from) t.env[e.name] = e.value;
    }
  }
  return t;
}

// status.progress from a report; `bytes_per_second` when the report has no
// rate of its own (a restic binary's status messages carry none).
apis::BackupSessionProgress ProgressStatus(const engine::ProgressReport& r,
                                           double bytes_per_second) {
  apis::BackupSessionProgress p;
  char pct[16];
  snprintf(pct, sizeof pct, "%.2f%%", r.percent_done * 100);
  p.percent = pct;
  p.files_done = int64_t(r.files_done);
  p.total_files = int64_t(r.total_files);
  p.bytes_done = int64_t(r.bytes_done);
  p.total_bytes = int64_t(r.total_bytes);
  p.rate = FormatBytes(static_cast<uint64_t>(bytes_per_second)) + "/s";
  // restic omits seconds_remaining while it is 0 (in the first whole second,
  // and when the rest takes under a second) and the engine until its scan
  // ends: those still deserve an ETA, from the rate measured here.
  if (r.seconds_remaining && *r.seconds_remaining > 0) {
    p.eta = FormatGoDuration(std::chrono::seconds(*r.seconds_remaining));
  } else if (bytes_per_second > 0 && r.total_bytes > r.bytes_done) {
    const double secs =
        std::ceil(static_cast<double>(r.total_bytes - r.bytes_done) / bytes_per_second);
    p.eta = FormatGoDuration(std::chrono::seconds(static_cast<int64_t>(secs)));
  }
  return p;
}

apis::SnapshotStats SnapshotStatsOf(const engine::BackupStats& s, const std::string& path) {
  apis::SnapshotStats out;
  out.name = s.snapshot_id.ShortHex();
  out.path = path;
  out.total_size = FormatBytes(s.total_bytes_processed);
  out.uploaded = FormatBytes(s.data_added);
  out.processing_time = FormatProcessingTime(s.seconds);
  out.file_stats.total_files = int64_t(s.total_files_processed);
  out.file_stats.new_files = int64_t(s.files_new);
  out.file_stats.modified_files = int64_t(s.files_changed);
  out.file_stats.unmodified_files = int64_t(s.files_unmodified);
  return out;
}

}  // namespace

// Session names to process, each at most once in the queue, with a retry
// delay on the injected clock.
struct BackupSidecar::Queue {
  void Push(const std::string& name, SystemTime due = {}) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [n, d] : items) {
        if (n == name) return;
      }
      items.emplace_back(name, due);
    }
    cv.notify_one();
  }
  // The first due name, or nullopt after a short wait (so the caller can
  // notice a lost lease and `stop`).
  std::optional<std::string> Pop(Clock& clock) {
    std::unique_lock<std::mutex> lock(mu);
    for (int round = 0; round < 2; ++round) {
      const SystemTime now = clock.Now();
      for (auto it = items.begin(); it != items.end(); ++it) {
        if (it->second > now) continue;
        std::string name = it->first;
        items.erase(it);
        return name;
      }
      if (round == 0) cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    return std::nullopt;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, SystemTime>> items;
};

struct BackupSidecar::Caches {
  apis::Informer<BackupSession> sessions;
  apis::Informer<BackupConfiguration> invoker;
};

// What the steps of one backup produced.
struct BackupSidecar::Outcome {
  std::vector<apis::Condition> conditions;
  std::vector<apis::Condition> target_conditions;  // the hooks'
  std::vector<apis::SnapshotStats> snapshots;
  std::optional<apis::Repository> repository;
  std::optional<apis::RepositoryStatus> repo_status;  // set once the backups succeeded
  // Per replica: the repository stays open after the backup, for the
  // post-backup actions should this host be the last to report.
  std::unique_ptr<RepositorySession> repo;
  Status failure;
};

BackupSidecar::BackupSidecar(const kube::Client& client, Clock& clock, BackupRunner& runner,
                             SidecarOptions opts)
    : client_(client),
      clock_(clock),
      runner_(runner),
      opts_(std::move(opts)),
      session_events_(client, clock, S(kube::kSourceBackupSessionController)),
      updater_events_(client, clock, S(kube::kSourceStatusUpdater)),
      sidecar_events_(client, clock, S(kube::kSourceBackupSidecar)),
      queue_(std::make_unique<Queue>()) {}

BackupSidecar::~BackupSidecar() = default;

std::string BackupSidecar::HostName(const std::string& alias) const {
  const std::string host =
      engine::StashHostName(opts_.target_kind, opts_.pod_name, opts_.node_name);
  if (alias.empty()) return host;
  // Stash's GetHostName: the alias replaces "host" (StatefulSet) or
  // prefixes the node (DaemonSet); a Deployment's one host is the alias.
  if (opts_.target_kind == "StatefulSet" && host.rfind("host-", 0) == 0) {
    return alias + host.substr(4);
  }
  if (opts_.target_kind == "DaemonSet" && !opts_.node_name.empty()) return alias + "-" + host;
  return alias;
}

bool BackupSidecar::PerReplica() const {
  return opts_.target_kind == "StatefulSet" || opts_.target_kind == "DaemonSet";
}

std::string BackupSidecar::LeaseName() const {
  return "lock-" + Lower(opts_.invoker_kind) + "-" + opts_.invoker_name + "-backup";
}

bool BackupSidecar::Matches(const BackupSession& s) const {
  return apis::IsSessionOf(s, opts_.invoker_kind, opts_.invoker_name);
}

namespace {

bool HasHost(const apis::BackupSessionStatus& status, const std::string& host) {
  for (const apis::BackupTargetStatus& t : status.targets) {
    for (const apis::HostBackupStats& h : t.stats) {
      if (h.hostname == host) return true;
    }
  }
  return false;
}

}  // namespace

bool BackupSidecar::Wanted(const BackupSession& s) const {
  const std::string& phase = s.status.phase;
  if (phase.empty() || phase == "Pending") return true;
  // Per replica, a Running session may still lack this host; whether it
  // does (the host name depends on the target's alias) ProcessSession says.
  return PerReplica() && phase == "Running";
}

bool BackupSidecar::WaitForAccess(const std::atomic<bool>& stop) {
  kube::ListOptions invoker_only;
  invoker_only.field_selector = "metadata.name=" + opts_.invoker_name;
  while (true) {
    // What the caches list (their watches retry quietly; a denial must not).
    Status s = client_.List(BackupSession::Resource(), opts_.ns, {}).status();
    if (s.ok()) {
      s = client_.List(BackupConfiguration::Resource(), opts_.ns, invoker_only).status();
    }
    if (!IsDenial(s)) return true;  // other errors: the caches retry them
    if (!kube::SleepUnlessStopped(clock_, Denied(s), stop)) return false;
  }
}

Status BackupSidecar::StartCaches(const std::atomic<bool>& stop) {
  kube::ListOptions invoker_only, all;
  invoker_only.field_selector = "metadata.name=" + opts_.invoker_name;
  invoker_only.timeout_seconds = all.timeout_seconds = opts_.watch_timeout_seconds;
  caches_.reset(new Caches{{client_, opts_.ns, all, clock_,
                            [this](const std::string& type, const BackupSession& s) {
                              if (type == "DELETED" || !Matches(s)) return;
                              if (Wanted(s)) queue_->Push(s.metadata.name);
                            }},
                           {client_, opts_.ns, invoker_only, clock_, {}}});
  caches_->sessions.Start();
  caches_->invoker.Start();
  std::unique_lock<std::mutex> lock(queue_->mu);
  while (!caches_->sessions.synced() || !caches_->invoker.synced()) {
    if (stop.load()) return CancelledError("stopped before the caches listed");
    queue_->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

bool BackupSidecar::AcquireLease(LeaderLease& lease, const std::atomic<bool>& stop) {
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
    if (!kube::SleepUnlessStopped(clock_, wait, stop)) return false;
  }
  NotDenied();
  spdlog::info("run-backup: leading {} for {} {}/{}", LeaseName(), opts_.invoker_kind, opts_.ns,
               opts_.invoker_name);
  return true;
}

Status BackupSidecar::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  SetReady(true, "");  // a previous run's signal is not this one's
  LeaderLease lease(client_, clock_, opts_.ns, LeaseName(),
                    opts_.pod_name.empty() ? "stash-sidecar" : opts_.pod_name);
  // Renewed from its own thread, so a backup longer than the lease (one
  // waiting on another configuration's lock of a shared repository) keeps it.
  std::unique_ptr<LeaseRenewer> renewer;
  if (PerReplica()) {
    spdlog::info("run-backup: {} {}/{}: every replica backs up its own volume; this pod is {}",
                 opts_.invoker_kind, opts_.ns, opts_.invoker_name, HostName());
  } else {
    if (!AcquireLease(lease, stop)) return Status::Ok();
    renewer = std::make_unique<LeaseRenewer>(lease);
  }
  Status result = WaitForAccess(stop) ? StartCaches(stop) : CancelledError("stopped while denied");
  if (result.ok()) {
    NotDenied();
    if (auto bc = caches_->invoker.Get(opts_.ns, opts_.invoker_name); bc.ok()) {
      sidecar_events_
          .Record(**bc, apis::kNormal, "BackupSession Controller Started",
                  "BackupSession controller started successfully in pod " + opts_.ns + "/" +
                      opts_.pod_name + ".")
          .IgnoreError();
    }
    if (Status s = FailInterrupted(); !s.ok()) spdlog::warn("{}", s.ToString());
  }
  bool caches_denied = false;
  while (result.ok() && !stop.load()) {
    // The caches retry by themselves, quietly; a denial is reported and
    // backed off as any other (sessions cannot be seen meanwhile).
    if (Status denied = CachesDenied(); IsDenial(denied)) {
      caches_denied = true;
      if (!kube::SleepUnlessStopped(clock_, Denied(denied), stop)) break;
      continue;
    } else if (caches_denied) {
      caches_denied = false;
      NotDenied();
    }
    if (renewer && renewer->lost()) {
      const Status why = renewer->lost_because();
      if (!IsDenial(why)) {
        result = UnavailableError("lost the lease " + LeaseName() + " to another replica");
        break;
      }
      // Refused a renewal (the Role lost `leases update`): as a denied first
      // call, reported and backed off in this process, which restarting
      // would not cure; backups wait until the lease is ours again.
      renewer.reset();
      if (!kube::SleepUnlessStopped(
              clock_, Denied(Status(why).Prepend("renewing Lease " + LeaseName())), stop) ||
          !AcquireLease(lease, stop)) {
        break;
      }
      renewer = std::make_unique<LeaseRenewer>(lease);
      continue;
    }
    std::optional<std::string> name = queue_->Pop(clock_);
    if (!name) continue;
    if (Status s = ProcessSession(*name); !s.ok()) {
      if (IsDenial(s)) {
        // Kept queued: the session runs once the permission is granted.
        queue_->Push(*name, clock_.Now() + Denied(Status(s).Prepend("BackupSession " + opts_.ns +
                                                                    "/" + *name)));
        continue;
      }
      spdlog::warn("BackupSession {}/{}: {}", opts_.ns, *name, s.ToString());
      if (s.retryable() || s.code() == Code::kConflict) {
        queue_->Push(*name, clock_.Now() + std::chrono::seconds(2));
      }
    } else {
      NotDenied();
    }
  }
  if (caches_) {
    caches_->sessions.RequestStop();
    caches_->invoker.RequestStop();
    caches_->sessions.Stop();
    caches_->invoker.Stop();
  }
  if (renewer) {
    renewer.reset();
    lease.Release();
  }
  return result.code() == Code::kCancelled ? Status::Ok() : result;
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
  // Not Ready, as a failing readiness probe: needs no permission at all.
  SetReady(false, s.message());
  if (s.message() != denied_message_) {
    // Either write may be denied as well; the log above says it anyway.
    apis::ObjectReference bc;
    bc.api_version = BackupConfiguration::Resource().ApiVersion();
    bc.kind = BackupConfiguration::Resource().kind;
    bc.name = opts_.invoker_name;
    bc.namespace_ = opts_.ns;
    Status e =
        sidecar_events_.Record(bc, apis::kWarning, "Permission Denied",
                               "The stash sidecar in pod " + opts_.ns + "/" + opts_.pod_name +
                                   " was denied: " + s.message() + " (retrying with back-off)");
    Status c = WriteAuthorized(&s);
    if (!c.ok()) spdlog::warn("run-backup: {}", c.ToString());
    if (e.ok() && c.ok()) denied_message_ = s.message();
  }
  return denied_wait_;
}

void BackupSidecar::NotDenied() {
  if (denied_wait_ == Duration{} && authorized_known_) return;
  denied_wait_ = {};
  denied_message_.clear();
  SetReady(true, "");
  Status c = WriteAuthorized(nullptr);
  if (!c.ok()) spdlog::warn("run-backup: {}", c.ToString());
  authorized_known_ = c.ok();
}

void BackupSidecar::SetReady(bool ready, const std::string& why) {
  if (opts_.not_ready_file.empty()) return;
  std::error_code ec;
  if (ready) {
    std::filesystem::remove(opts_.not_ready_file, ec);
    return;
  }
  std::ofstream out(opts_.not_ready_file, std::ios::trunc);
  out << why << "\n";
}

Status BackupSidecar::CachesDenied() const {
  for (const Status& s : {caches_->sessions.error(), caches_->invoker.error()}) {
    if (IsDenial(s)) return s;
  }
  return Status::Ok();
}

Status SidecarReadiness(const std::string& not_ready_file) {
  std::ifstream in(not_ready_file);
  if (!in) return Status::Ok();  // absent: Ready
  std::string why((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return UnavailableError("the stash sidecar is not ready: " +
                          (why.empty() ? std::string("see its log") : why));
}

Status BackupSidecar::WriteAuthorized(const Status* denial) {
  const std::string pod = "The stash sidecar in pod " + opts_.ns + "/" + opts_.pod_name;
  return SetAuthorized(client_, clock_, opts_.ns, opts_.invoker_name, kSidecarAuthorizedCondition,
                       denial,
                       AuthorizedMessage(pod, denial, "stash-backup-" + opts_.invoker_name));
}

Status BackupSidecar::FailInterrupted() {
  bool interrupted = false;
  for (const auto& s : caches_->sessions.List()) {
    if (!Matches(*s) || s->status.phase != "Running") continue;
    if (PerReplica()) {
      // Other replicas may be backing up: this host backs up its part (the
      // queue has the session), after removing its killed backup's lock.
      interrupted = true;
      continue;
    }
    const SystemTime now = clock_.Now();
    const std::string error =
        "failed to complete backup for host " + HostName() +
        ". Reason: the backup was interrupted (its process was killed or the node restarted); "
        "the next scheduled backup will run normally.";
    apis::BackupTargetStatus target =
        s->status.targets.empty() ? apis::BackupTargetStatus{} : s->status.targets[0];
    target.phase = "Failed";
    apis::HostBackupStats host;
    host.hostname = HostName();
    host.phase = "Failed";
    host.error = error;
    target.stats = {host};
    target.conditions = {
        Cond("BackupDisrupted", true, "FailedToCompleteDueToDisruption", error, now)};
    apis::BackupSessionStatus status;
    status.phase = "Failed";
    status.targets = {target};
    if (auto created = kube::ParseTime(s->metadata.creation_timestamp); created.ok()) {
      status.session_duration = FormatGoDuration(now - *created);
    }
    STASH_RETURN_IF_ERROR(apis::PatchStatus(client_, *s, status));
    updater_events_.Record(*s, apis::kWarning, "Host Backup Failed", error).IgnoreError();
    spdlog::warn("BackupSession {}/{} was left Running; marked Failed", opts_.ns, s->metadata.name);
    interrupted = true;
  }
  if (interrupted) RemoveStaleLocks();
  return Status::Ok();
}

void BackupSidecar::RemoveStaleLocks() {
  auto bc = caches_->invoker.Get(opts_.ns, opts_.invoker_name);
  if (!bc.ok()) return;
  apis::Repository repository;
  auto target = ResolveTarget(**bc, &repository);
  if (!target.ok()) return;
  if (Status s = runner_.Unlock(*target); !s.ok()) spdlog::warn("{}", s.ToString());
}

Status BackupSidecar::ProcessSession(const std::string& name) {
  auto cached = caches_->sessions.Get(opts_.ns, name);
  if (!cached.ok())
    return cached.status().code() == Code::kNotFound ? Status::Ok() : cached.status();
  const BackupSession& session = **cached;
  const std::string& phase = session.status.phase;
  if (!Wanted(session) || !Matches(session)) return Status::Ok();
  auto cached_bc = caches_->invoker.Get(opts_.ns, opts_.invoker_name);
  if (!cached_bc.ok()) {
    // A missing invoker is the operator's to report (it skips the session).
    return cached_bc.status().code() == Code::kNotFound ? Status::Ok() : cached_bc.status();
  }
  std::shared_ptr<const BackupConfiguration> bc = *cached_bc;
  if (bc->spec.paused) {
    // A skip cannot be undone, and the two caches follow separate watches:
    // a resume just before this session may not be in the cache yet, so the
    // API server has the last word.
    auto fresh = apis::Get<BackupConfiguration>(client_, opts_.ns, opts_.invoker_name);
    if (!fresh.ok()) {
      return fresh.status().code() == Code::kNotFound ? Status::Ok() : fresh.status();
    }
    bc = std::make_shared<const BackupConfiguration>(std::move(*fresh));
  }
  const std::string alias = bc->spec.target ? bc->spec.target->alias : "";
  if (phase == "Running" && HasHost(session.status, HostName(alias))) return Status::Ok();
  if (bc->status.phase != "Ready" && !bc->spec.paused) return Status::Ok();
  // A session other replicas already run is not skipped for a pause that
  // came after it started.
  const bool skip = bc->spec.paused && phase != "Running";
  auto done = skip ? Skip(session) : Execute(session, *bc);
  if (!done.ok()) return done.status();
  CleanupHistory(*bc, *done);
  return Status::Ok();
}

Result<BackupSession> BackupSidecar::Skip(const BackupSession& session) {
  spdlog::info("Skipping processing BackupSession {}/{}. Reason: Backup Configuration is paused.",
               opts_.ns, session.metadata.name);
  apis::BackupSessionStatus status;
  status.phase = "Skipped";
  STASH_ASSIGN_OR_RETURN(BackupSession skipped,
                         apis::PatchStatus(client_, session, status, /*if_version=*/true));
  session_events_
      .Record(session, apis::kWarning, "BackupSessionSkipped", "Backup Configuration is paused")
      .IgnoreError();
  return skipped;
}

Result<BackupSession> BackupSidecar::Execute(const BackupSession& session,
                                             const BackupConfiguration& bc) {
  const SystemTime start = clock_.Now();
  const apis::BackupTarget spec_target = bc.spec.target.value_or(apis::BackupTarget{});
  const std::string host = HostName(spec_target.alias);
  std::optional<SystemTime> deadline;
  std::string deadline_text;
  const std::string time_out = bc.spec.time_out.value_or("");
  if (!time_out.empty()) {
    auto d = kube::ParseGoDuration(time_out);
    auto created = kube::ParseTime(session.metadata.creation_timestamp);
    if (d.ok() && created.ok()) {
      deadline = *created + *d;
      deadline_text = kube::FormatTime(*deadline);
    }
  }
  apis::BackupTargetStatus target;
  target.ref = spec_target.ref;
  target.total_hosts = 1;
  target.phase = "Running";
  BackupSession claimed;
  if (PerReplica()) {
    STASH_ASSIGN_OR_RETURN(std::optional<BackupSession> mine,
                           ClaimHost(session, bc, host, deadline_text));
    if (!mine) return session;  // another replica ended it, or this host is done
    claimed = std::move(*mine);
  } else {
    apis::BackupSessionStatus running;
    running.phase = "Running";
    running.targets = {target};
    running.session_deadline = deadline_text;
    // Conditional on the version we saw: a session some other writer (or a
    // second event) already moved on is not run again.
    STASH_ASSIGN_OR_RETURN(claimed,
                           apis::PatchStatus(client_, session, running, /*if_version=*/true));
  }
  Outcome out;
  const bool expired = RunWithDeadline(deadline, [&] {
    // A failed preBackup hook fails the session before anything is backed up.
    out.failure = RunHook(bc, /*pre=*/true, "", &out.target_conditions);
    if (out.failure.ok()) RunSteps(bc, claimed, host, &out);
  });
  if (expired) {
    const std::string message = "Failed to complete backup within " + time_out + ".";
    out.conditions.push_back(
        Cond("DeadlineExceeded", true, "FailedToCompleteWithinDeadline", message, clock_.Now()));
    out.failure = TimeoutError(message);
  }
  // postBackup runs whatever happened (its executionPolicy decides), and
  // fails the target when it fails.
  if (Status hook = RunHook(bc, /*pre=*/false, out.failure.ok() ? "Succeeded" : "Failed",
                            &out.target_conditions, session.spec.retry_left);
      !hook.ok() && out.failure.ok()) {
    out.failure = hook;
  }
  if (PerReplica()) return ReportHost(bc, claimed, out, start, host);
  return Report(bc, claimed, target, out, start, host);
}

Result<int32_t> BackupSidecar::TotalHosts(const apis::TargetRef& ref) {
  const std::string ns = opts_.target_ns.empty() ? opts_.ns : opts_.target_ns;
  if (ref.kind == "StatefulSet") {
    STASH_ASSIGN_OR_RETURN(auto sts, apis::Get<apis::StatefulSet>(client_, ns, ref.name));
    return sts.spec.replicas.value_or(1);
  }
  if (ref.kind == "DaemonSet") {
    STASH_ASSIGN_OR_RETURN(auto ds, apis::Get<apis::DaemonSet>(client_, ns, ref.name));
    // Before its controller counted the nodes, this pod's is one.
    return std::max<int32_t>(ds.status.desired_number_scheduled, 1);
  }
  return 1;
}

Result<std::optional<BackupSession>> BackupSidecar::ClaimHost(const BackupSession& session,
                                                              const BackupConfiguration& bc,
                                                              const std::string& host,
                                                              const std::string& deadline) {
  const apis::TargetRef ref = bc.spec.target ? bc.spec.target->ref : apis::TargetRef{};
  STASH_ASSIGN_OR_RETURN(int32_t total, TotalHosts(ref));
  // Fresh from the server: the cache may not show this host's own report
  // yet, and a host must not back up twice.
  STASH_ASSIGN_OR_RETURN(BackupSession fresh,
                         apis::Get<BackupSession>(client_, opts_.ns, session.metadata.name));
  bool mine = true;
  auto claimed = UpdateSessionStatus(client_, fresh, [&](apis::BackupSessionStatus* status) {
    if (apis::IsFinalPhase(status->phase) || HasHost(*status, host)) {
      mine = false;
      return false;
    }
    bool changed = false;
    if (status->phase != "Running") {
      status->phase = "Running";
      changed = true;
    }
    if (status->session_deadline.empty() && !deadline.empty()) {
      status->session_deadline = deadline;
      changed = true;
    }
    auto t = std::find_if(status->targets.begin(), status->targets.end(), [&](const auto& t) {
      return t.ref.kind == ref.kind && t.ref.name == ref.name;
    });
    if (t == status->targets.end()) {
      // The first replica to start counts the hosts; the others keep it.
      apis::BackupTargetStatus target;
      target.ref = ref;
      target.total_hosts = total;
      target.phase = "Running";
      status->targets.push_back(target);
      changed = true;
    }
    return changed;
  });
  if (!claimed.ok()) return claimed.status();
  if (!mine) return std::optional<BackupSession>();
  spdlog::info("BackupSession {}/{}: backing up host {}", opts_.ns, session.metadata.name, host);
  return std::optional<BackupSession>(std::move(*claimed));
}

Result<RepoTarget> BackupSidecar::ResolveTarget(const BackupConfiguration& bc,
                                                apis::Repository* repository) {
  const std::string repo_ns =
      bc.spec.repository.namespace_.empty() ? opts_.ns : bc.spec.repository.namespace_;
  STASH_ASSIGN_OR_RETURN(*repository,
                         apis::Get<apis::Repository>(client_, repo_ns, bc.spec.repository.name));
  STASH_ASSIGN_OR_RETURN(
      apis::Secret secret,
      apis::Get<apis::Secret>(client_, repo_ns, repository->spec.backend.storage_secret_name));
  return ResolveRepository(*repository, secret, opts_.data_dir);
}

void BackupSidecar::RunSteps(const BackupConfiguration& bc, const BackupSession& session,
                             const std::string& host, Outcome* out) {
  apis::Repository repository;
  auto target = ResolveTarget(bc, &repository);
  if (!target.ok()) return void(out->failure = target.status());
  out->repository = repository;
  auto repo = runner_.Open(*target);
  const SystemTime now = clock_.Now();
  if (!repo.ok()) {
    out->conditions.push_back(
        Cond("BackendRepositoryInitialized", false, "FailedToInitializeBackendRepository",
             "Failed to initialize backend repository. Reason: " + repo.status().message(), now));
    return void(out->failure = repo.status());
  }
  const bool created = (*repo)->created();
  out->conditions.push_back(Cond(
      "BackendRepositoryInitialized", true,
      created ? "BackendRepositoryInitialized" : "BackendRepositoryFound",
      created ? "Successfully initialized backend repository." : "Repository exist in the backend.",
      now));
  BackupPaths(**repo, bc, session, host, out);
  if (PerReplica()) {
    // The host that reports last runs the post-backup actions (ReportHost).
    out->repo = std::move(*repo);
    return;
  }
  if (out->failure.ok()) AfterBackup(**repo, bc, out);
}

void BackupSidecar::BackupPaths(RepositorySession& repo, const BackupConfiguration& bc,
                                const BackupSession& session, const std::string& host,
                                Outcome* out) {
  const apis::BackupTarget target = bc.spec.target.value_or(apis::BackupTarget{});
  // Live progress: status.progress every few seconds while paths are read.
  std::mutex mu;
  SystemTime last_report{};
  uint64_t last_bytes = 0;
  auto on_progress = [&](const engine::ProgressReport& r) {
    std::lock_guard lock(mu);
    const SystemTime now = clock_.Now();
    if (now - last_report < kProgressInterval) return;
    const double secs = std::chrono::duration<double>(now - last_report).count();
    double rate = r.bytes_per_second;
    if (rate <= 0 && last_report != SystemTime{} && r.bytes_done >= last_bytes) {
      rate = static_cast<double>(r.bytes_done - last_bytes) / secs;
    }
    last_report = now;
    last_bytes = r.bytes_done;
    apis::BackupSessionStatus status;
    status.progress = ProgressStatus(r, rate);
    // A missed update is replaced by the next one.
    apis::PatchStatus(client_, session, status).status().IgnoreError();
  };
  for (const std::string& path : target.paths) {
    BackupRequest request{host, {path}, target.exclude, opts_.path_map, on_progress};
    auto stats = repo.Backup(request);
    if (!stats.ok()) return void(out->failure = stats.status());
    out->snapshots.push_back(SnapshotStatsOf(*stats, path));
    if (stats->errors > 0) {
      out->failure = IncompleteError("some files under " + path + " could not be read; snapshot " +
                                     stats->snapshot_id.ShortHex() + " is incomplete");
      return;
    }
  }
}

void BackupSidecar::AfterBackup(RepositorySession& repo, const BackupConfiguration& bc,
                                Outcome* out) {
  apis::RepositoryStatus& status = out->repo_status.emplace();
  if (bc.spec.retention_policy) {
    auto kept = repo.ApplyRetention(*bc.spec.retention_policy);
    const SystemTime now = clock_.Now();
    if (!kept.ok()) {
      out->conditions.push_back(
          Cond("RetentionPolicyApplied", false, "FailedToApplyRetentionPolicy",
               "Failed to apply retention policy. Reason: " + kept.status().message(), now));
      return void(out->failure = kept.status());
    }
    out->conditions.push_back(Cond("RetentionPolicyApplied", true,
                                   "SuccessfullyAppliedRetentionPolicy",
                                   "Successfully applied retention policy.", now));
    status.snapshots_removed_on_last_cleanup = kept->removed;
  }
  Status check = repo.Check();
  status.integrity = check.ok();
  out->conditions.push_back(Cond(
      "RepositoryIntegrityVerified", check.ok(),
      check.ok() ? "SuccessfullyVerifiedRepositoryIntegrity" : "FailedToVerifyRepositoryIntegrity",
      check.ok() ? "Repository integrity verification succeeded."
                 : "Repository integrity verification failed. Reason: " + check.message(),
      clock_.Now()));
  if (!check.ok()) out->failure = check;
  auto stats = repo.Stats();
  if (stats.ok()) {
    status.total_size = FormatBytes(stats->total_size);
    status.snapshot_count = stats->snapshot_count;
  } else if (out->failure.ok()) {
    out->failure = stats.status();
  }
}

Result<BackupSession> BackupSidecar::ReportHost(const BackupConfiguration& bc,
                                                const BackupSession& session, Outcome& out,
                                                SystemTime start, const std::string& host) {
  const bool ok = out.failure.ok();
  HostReport report;
  report.ref = bc.spec.target ? bc.spec.target->ref : apis::TargetRef{};
  report.stats.hostname = host;
  report.stats.phase = ok ? "Succeeded" : "Failed";
  report.stats.duration = FormatGoDuration(clock_.Now() - start, std::chrono::milliseconds(1));
  report.stats.snapshots = out.snapshots;
  if (!ok) {
    report.stats.error =
        "failed to complete backup for host " + host + ". Reason: " + out.failure.message();
  }
  report.target_conditions = out.target_conditions;
  report.session_conditions = out.conditions;
  STASH_ASSIGN_OR_RETURN(BackupSession reported,
                         RecordHostReport(client_, session, report, clock_.Now()));
  RecordHostEvent(session, host, out.failure);
  spdlog::info("BackupSession {}/{}: host {} {}{}", opts_.ns, session.metadata.name, host,
               report.stats.phase, ok ? "" : " (" + report.stats.error + ")");
  // Only the host whose report completed the set goes on: exactly one, as
  // each report was written against the version it merged into.
  if (!AllHostsReported(reported.status)) return reported;
  if (reported.status.phase == "Running") {
    // Every host succeeded: retention (per host and paths), check and size,
    // once for the session, by this last host.
    Outcome post;
    post.repository = out.repository;
    if (out.repo) {
      AfterBackup(*out.repo, bc, &post);
    } else {
      post.failure = InternalError("the repository of the last host is not open");
    }
    out.repo.reset();
    if (post.repo_status && post.repository) {
      UpdateRepositoryStatus(*post.repository, reported, *post.repo_status).IgnoreError();
    }
    STASH_ASSIGN_OR_RETURN(
        reported, RecordPostBackupActions(client_, reported, post.conditions, clock_.Now()));
    if (!post.failure.ok()) {
      spdlog::warn("BackupSession {}/{}: after the backups of all hosts: {}", opts_.ns,
                   session.metadata.name, post.failure.ToString());
    }
  }
  out.repo.reset();
  spdlog::info(
      "BackupSession {}/{}: {} ({} hosts)", opts_.ns, session.metadata.name, reported.status.phase,
      reported.status.targets.empty() ? 0 : reported.status.targets[0].total_hosts.value_or(0));
  if (opts_.metrics_enabled) {
    const apis::Repository* repository = out.repository ? &*out.repository : nullptr;
    if (Status pushed = PushSessionMetrics(bc, reported, repository); !pushed.ok()) {
      spdlog::warn("BackupSession {}/{}: {}", opts_.ns, session.metadata.name, pushed.ToString());
    }
  }
  return reported;
}

Result<BackupSession> BackupSidecar::Report(const BackupConfiguration& bc,
                                            const BackupSession& session,
                                            const apis::BackupTargetStatus& running,
                                            const Outcome& out, SystemTime start,
                                            const std::string& host) {
  const SystemTime end = clock_.Now();
  const bool ok = out.failure.ok();
  apis::HostBackupStats host_stats;
  host_stats.hostname = host;
  host_stats.phase = ok ? "Succeeded" : "Failed";
  host_stats.duration = FormatGoDuration(end - start, std::chrono::milliseconds(1));
  host_stats.snapshots = out.snapshots;
  if (!ok) {
    host_stats.error =
        "failed to complete backup for host " + host + ". Reason: " + out.failure.message();
  }
  apis::BackupTargetStatus target = running;
  target.phase = host_stats.phase;
  target.stats = {host_stats};
  target.conditions = out.target_conditions;
  apis::BackupSessionStatus status;
  status.phase = host_stats.phase;
  status.session_duration = FormatGoDuration(end - start);
  status.targets = {target};
  status.conditions = out.conditions;
  // The Repository first: whoever waits for the session to end then sees
  // the repository's new size and snapshot count.
  if (out.repo_status && out.repository) {
    UpdateRepositoryStatus(*out.repository, session, *out.repo_status).IgnoreError();
  }
  apis::json patch = {{"status", apis::ToJson(status)}};
  patch.at("status").emplace("progress", nullptr);  // only while Running
  STASH_ASSIGN_OR_RETURN(BackupSession reported, apis::MergePatch<BackupSession>(
                                                     client_, session.metadata, patch, "status"));
  if (opts_.metrics_enabled) {
    const apis::Repository* repository = out.repository ? &*out.repository : nullptr;
    if (Status pushed = PushSessionMetrics(bc, reported, repository); !pushed.ok()) {
      spdlog::warn("BackupSession {}/{}: {}", opts_.ns, session.metadata.name, pushed.ToString());
    }
  }
  RecordHostEvent(session, host, out.failure);
  spdlog::info("BackupSession {}/{}: {}{}", opts_.ns, session.metadata.name, host_stats.phase,
               ok ? "" : " (" + host_stats.error + ")");
  return reported;
}

void BackupSidecar::RecordHostEvent(const BackupSession& session, const std::string& host,
                                    const Status& failure) {
  const std::string bc_id = "\"" + opts_.ns + "\"/\"" + opts_.invoker_name + "\"";
  if (failure.ok()) {
    updater_events_
        .Record(session, apis::kNormal, "Host Backup Succeeded",
                "backup succeeded for host " + host + " of " + bc_id + ".")
        .IgnoreError();
  } else {
    updater_events_
        .Record(session, apis::kWarning, "Host Backup Failed",
                "backup failed for host \"" + host + "\" of " + bc_id +
                    ". Reason: " + failure.message())
        .IgnoreError();
  }
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

Status BackupSidecar::RunHook(const BackupConfiguration& bc, bool pre, const std::string& phase,
                              std::vector<apis::Condition>* conditions, int retry_left) {
  if (!bc.spec.hooks) return Status::Ok();
  const std::optional<apis::Handler>& handler =
      pre ? bc.spec.hooks->pre_backup : bc.spec.hooks->post_backup;
  if (!handler) return Status::Ok();
  const std::string which = pre ? "preBackup" : "postBackup";
  const std::string type =
      pre ? "PreBackupHookExecutionSucceeded" : "PostBackupHookExecutionSucceeded";
  const std::string title = pre ? "PreBackup" : "PostBackup";
  if (!pre && !AllowedByExecutionPolicy(handler->execution_policy, phase, retry_left)) {
    return Status::Ok();  // not for this outcome
  }
  apis::PodTemplateSpec tmpl;
  if (bc.spec.target) {
    if (auto t = TargetTemplate(client_, bc.spec.target->ref, opts_.ns); t.ok()) tmpl = *t;
  }
  spdlog::info("BackupSession of {}/{}: running the {} hook", opts_.ns, opts_.invoker_name, which);
  Status result =
      RunHandler(*handler, WorkloadHookTarget(tmpl, handler->container_name), kHookTimeout);
  const SystemTime now = clock_.Now();
  if (result.ok()) {
    conditions->push_back(Cond(type, true, "SuccessfullyExecuted" + title + "Hook",
                               "Successfully executed " + which + " hook.", now));
    return Status::Ok();
  }
  std::string message = "Failed to execute " + which + " hook. Reason: " + result.message();
  conditions->push_back(Cond(type, false, "FailedToExecute" + title + "Hook", message, now));
  return Status(result.code(), message);
}

Status BackupSidecar::PushSessionMetrics(const BackupConfiguration& bc,
                                         const BackupSession& reported,
                                         const apis::Repository* repository) {
  BackupSession session = reported;  // as written: the pushed values are the status' values
  if (session.spec.invoker.kind.empty()) session.spec.invoker.kind = opts_.invoker_kind;
  MetricsRegistry m;
  Status families = apis::SetBackupSessionFamilies(m, bc, session, opts_.metrics_labels);
  if (!families.ok()) spdlog::warn("metrics of {}: {}", session.metadata.name, families.message());
  if (repository) {
    // Fresh: UpdateRepositoryStatus just wrote its size and snapshot count.
    auto repo = apis::Get<apis::Repository>(client_, repository->metadata.namespace_,
                                            repository->metadata.name);
    if (repo.ok()) {
      apis::SetRepositoryMetrics(
          m,
          apis::UpsertLabels(
              apis::BackupInvokerLabels(opts_.invoker_kind, bc, opts_.metrics_labels),
              apis::RepositoryLabels(*repo)),
          repo->status)
          .IgnoreError();
    }
  }
  return PushMetrics(opts_.pushgateway_url,
                     MetricsJobName(opts_.invoker_kind, opts_.ns, opts_.invoker_name),
                     m.Exposition());
}

Status BackupSidecar::UpdateRepositoryStatus(const apis::Repository& repository,
                                             const BackupSession& session,
                                             const apis::RepositoryStatus& repo_status) {
  apis::RepositoryStatus status = repo_status;
  status.last_backup_time = session.metadata.creation_timestamp.empty()
                                ? kube::FormatTime(clock_.Now())
                                : session.metadata.creation_timestamp;
  if (repository.status.first_backup_time.empty()) {
    status.first_backup_time = status.last_backup_time;
  }
  status.observed_generation = repository.metadata.generation ? repository.metadata.generation : 1;
  return apis::PatchStatus(client_, repository, status).status();
}

void BackupSidecar::CleanupHistory(const BackupConfiguration& bc, const BackupSession& done) {
  // The cache may not show our own last write yet.
  std::vector<std::shared_ptr<const BackupSession>> items = {
      std::make_shared<const BackupSession>(done)};
  for (const auto& s : caches_->sessions.List()) {
    if (Matches(*s) && s->metadata.name != done.metadata.name) items.push_back(s);
  }
  for (const std::string& name :
       apis::SessionsBeyondHistoryLimit(items, bc.spec.backup_history_limit.value_or(1))) {
    apis::Delete<BackupSession>(client_, opts_.ns, name, "Background").IgnoreError();
  }
}

}  // namespace stash::agent
