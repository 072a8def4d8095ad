#include "stash/agent/restore_init.h"

#include <spdlog/spdlog.h>

#include "stash/agent/authorized.h"
#include "stash/agent/format.h"
#include "stash/agent/lease.h"
#include "stash/agent/repository.h"
#include "stash/apis/client.h"
#include "stash/apis/core.h"
#include "stash/apis/repository.h"
#include "stash/engine/restore_rules.h"

namespace stash::agent {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

apis::HostRestoreStats Stats(const std::string& host, const std::string& phase,
                             const std::string& duration) {
  apis::HostRestoreStats st;
  st.hostname = host;
  st.phase = phase;
  st.duration = duration;
  return st;
}

bool FinalPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Unknown" || phase == "Invalid";
}

}  // namespace

// The rules of a RestoreSession: spec.target.rules, or the deprecated spec.rules.
std::vector<engine::RestoreRule> RulesOf(const apis::RestoreSession& s) {
  if (s.spec.target && !s.spec.target->rules.empty()) {
    return engine::RulesFrom(s.spec.target->rules);
  }
  return engine::RulesFrom(s.spec.rules);
}

RestoreInit::RestoreInit(const kube::Client& client, Clock& clock, Random& random,
                         RestoreInitOptions opts)
    : client_(client),
      clock_(clock),
      random_(random),
      opts_(std::move(opts)),
      events_(client, clock, "Restore Init-Container") {}

std::string RestoreInit::HostName() const {
  if (!opts_.host.empty()) return opts_.host;
  return engine::StashHostName(opts_.target_kind, opts_.pod_name, opts_.node_name);
}

std::string RestoreInit::LeaseName() const {
  std::string name = "lock-" + Lower(opts_.target_kind) + "-" + opts_.target_name + "-restore";
  // A StatefulSet's replicas are different hosts: they need not wait for
  // each other.
  if (opts_.target_kind == "StatefulSet") name += "-" + HostName();
  return name;
}

Result<bool> RestoreInit::Done(apis::RestoreSession* session) {
  auto got = apis::Get<apis::RestoreSession>(client_, opts_.ns, opts_.invoker_name);
  if (!got.ok()) {
    if (got.status().code() != Code::kNotFound) return got.status();
    spdlog::info("RestoreSession {}/{} is gone: nothing to restore", opts_.ns, opts_.invoker_name);
    return true;
  }
  *session = std::move(*got);
  if (FinalPhase(session->status.phase)) return true;
  for (const apis::HostRestoreStats& st : session->status.stats) {
    if (st.hostname == HostName() && (st.phase == "Succeeded" || st.phase == "Failed")) return true;
  }
  return false;
}

Result<RestoreOutcome> RestoreInit::Run(const std::atomic<bool>& stop) {
  Result<RestoreOutcome> outcome = RunOnce(stop);
  ReportAccess(outcome.status());
  return outcome;
}

// Issue 13: a denial (401/403) is a condition and a Warning event on the
// RestoreSession, not only an exit. The back-off is the node's restart
// back-off of the init container, and its pod stays not Initialized.
void RestoreInit::ReportAccess(const Status& s) {
  const std::string pod = opts_.ns + "/" + opts_.pod_name;
  const std::string who =
      opts_.job ? "The stash restore Job's pod " + pod : "The stash init container in pod " + pod;
  const std::string role = "stash-restore-" + opts_.invoker_name;
  if (!IsDenial(s)) {
    if (!s.ok()) return;  // not known to work yet
    // True again where it was False (one read: this process is one attempt).
    Status c = SetRestoreAuthorized(client_, clock_, opts_.ns, opts_.invoker_name,
                                    kInitContainerAuthorizedCondition, nullptr,
                                    AuthorizedMessage(who, nullptr, role));
    if (!c.ok() && c.code() != Code::kNotFound) spdlog::warn("run-restore: {}", c.ToString());
    return;
  }
  spdlog::error(
      "run-restore: denied by the API server: {}. This pod's ServiceAccount lacks a permission the "
      "operator grants through Role/RoleBinding {} (or the token is not accepted); {}",
      s.ToString(), role,
      opts_.job ? "the restore Job retries with back-off"
                : "the node restarts this init container with back-off");
  // Either write may be denied as well; the log above says it anyway.
  apis::ObjectReference rs;
  rs.api_version = apis::RestoreSession::Resource().ApiVersion();
  rs.kind = apis::RestoreSession::Resource().kind;
  rs.name = opts_.invoker_name;
  rs.namespace_ = opts_.ns;
  Status e = events_.Record(rs, apis::kWarning, "Permission Denied",
                            who + " was denied: " + s.message() + " (retrying with back-off)");
  if (!e.ok()) spdlog::warn("run-restore: recording the event: {}", e.ToString());
  Status c =
      SetRestoreAuthorized(client_, clock_, opts_.ns, opts_.invoker_name,
                           kInitContainerAuthorizedCondition, &s, AuthorizedMessage(who, &s, role));
  if (!c.ok()) spdlog::warn("run-restore: {}", c.ToString());
}

Result<RestoreOutcome> RestoreInit::RunOnce(const std::atomic<bool>& stop) {
  apis::RestoreSession session;
  STASH_ASSIGN_OR_RETURN(bool done, Done(&session));
  if (done) return RestoreOutcome::kSkipped;
  LeaderLease lease(client_, clock_, opts_.ns, LeaseName(),
                    opts_.pod_name.empty() ? "stash-init" : opts_.pod_name, opts_.lease_duration);
  for (;;) {
    STASH_ASSIGN_OR_RETURN(bool leader, lease.TryAcquireOrRenew());
    // Another replica of this host may have finished while we waited.
    STASH_ASSIGN_OR_RETURN(done, Done(&session));
    if (done) {
      if (leader) lease.Release();
      return RestoreOutcome::kSkipped;
    }
    if (leader) break;
    if (stop.load()) return CancelledError("stopped while waiting for Lease " + LeaseName());
    clock_.SleepUntil(clock_.Now() + opts_.poll);
  }
  Result<RestoreOutcome> outcome = CancelledError("restore not run");
  {
    LeaseRenewer renewer(lease);  // held for as long as the restore takes
    outcome = Restore(session);
  }
  lease.Release();
  return outcome;
}

Result<RestoreOutcome> RestoreInit::Restore(const apis::RestoreSession& session) {
  const SystemTime started = clock_.Now();
  const std::string host = HostName();
  std::vector<engine::RestoreRule> rules = RulesOf(session);
  if (!engine::RuleForHost(rules, host)) {
    // As Stash: a host no rule names has nothing to restore, and is done.
    spdlog::info("no rule of RestoreSession {}/{} selects host {}: nothing to restore", opts_.ns,
                 opts_.invoker_name, host);
    STASH_RETURN_IF_ERROR(SetStats(Stats(host, "Succeeded", "0s")));
    return RestoreOutcome::kSkipped;
  }
  const std::string repo_ns =
      session.spec.repository.namespace_.empty() ? opts_.ns : session.spec.repository.namespace_;
  const std::string repo_name = session.spec.repository.name;
  auto repository = apis::Get<apis::Repository>(client_, repo_ns, repo_name);
  if (!repository.ok()) {
    // A permission missing is granted later: not a failed restore.
    if (repository.status().retryable() || IsDenial(repository.status())) {
      return repository.status();
    }
    return Fail(session,
                "Repository " + repo_ns + "/" + repo_name + ": " + repository.status().message(),
                started);
  }
  const std::string secret_name = repository->spec.backend.storage_secret_name;
  auto secret = apis::Get<apis::Secret>(client_, repo_ns, secret_name);
  if (!secret.ok()) {
    if (secret.status().retryable() || IsDenial(secret.status())) return secret.status();
    return Fail(session,
                "storage Secret " + repo_ns + "/" + secret_name + " of Repository " + repo_name +
                    ": " + secret.status().message(),
                started);
  }
  auto target = ResolveRepository(*repository, *secret, opts_.data_dir);
  if (!target.ok()) return Fail(session, target.status().message(), started);
  SetStats(Stats(host, "Running", "")).IgnoreError();
  auto repo = OpenRepository(*target, opts_.env, clock_, random_);
  if (!repo.ok()) {
    if (repo.status().retryable()) return repo.status();
    return Fail(session,
                "opening the repository of Repository " + repo_ns + "/" + repo_name + ": " +
                    repo.status().message(),
                started);
  }
  engine::HostRestoreOptions ho;
  ho.clock = &clock_;
  ho.path_map = opts_.path_map;
  auto restored = engine::RestoreHost(**repo, rules, host, ho);
  if (!restored.ok()) {
    // A lock held by a prune, or a store that went away: try again later.
    if (restored.status().retryable() || restored.status().code() == Code::kConflict) {
      return restored.status();
    }
    return Fail(session, restored.status().message(), started);
  }
  const std::string duration = FormatGoDuration(clock_.Now() - started);
  STASH_RETURN_IF_ERROR(SetStats(Stats(host, "Succeeded", duration)));
  events_
      .Record(session, apis::kNormal, "Host Restore Succeeded",
              "restore succeeded for host \"" + host + "\"")
      .IgnoreError();
  spdlog::info("restored host {} of RestoreSession {}/{}: {} files, {} bytes in {}", host, opts_.ns,
               opts_.invoker_name, restored->stats.files, restored->stats.bytes, duration);
  return RestoreOutcome::kRestored;
}

Result<RestoreOutcome> RestoreInit::Fail(const apis::RestoreSession& session,
                                         const std::string& reason, SystemTime started) {
  const std::string host = HostName();
  failure_ = reason;
  apis::HostRestoreStats st = Stats(host, "Failed", FormatGoDuration(clock_.Now() - started));
  st.error = reason;
  STASH_RETURN_IF_ERROR(SetStats(st));
  events_
      .Record(session, apis::kWarning, "Host Restore Failed",
              "restore failed for host \"" + host + "\". Reason: " + reason)
      .IgnoreError();
  spdlog::error("restore of host {} of RestoreSession {}/{} failed: {}", host, opts_.ns,
                opts_.invoker_name, reason);
  return RestoreOutcome::kFailed;
}

Status RestoreInit::SetStats(const apis::HostRestoreStats& entry) {
  for (int attempt = 0;; ++attempt) {
    STASH_ASSIGN_OR_RETURN(apis::RestoreSession session,
                           apis::Get<apis::RestoreSession>(client_, opts_.ns, opts_.invoker_name));
    apis::RestoreSessionStatus status = session.status;
    auto it =
        std::find_if(status.stats.begin(), status.stats.end(),
                     [&](const apis::HostRestoreStats& s) { return s.hostname == entry.hostname; });
    if (it != status.stats.end()) {
      *it = entry;
    } else {
      status.stats.push_back(entry);
    }
    auto patched = apis::PatchStatus(client_, session, status, /*if_version=*/true);
    if (patched.ok()) return Status::Ok();
    if (patched.status().code() != Code::kConflict || attempt >= 20) return patched.status();
  }
}

}  // namespace stash::agent
