#include "stash/agent/trigger.h"

#include <spdlog/spdlog.h>

#include "stash/agent/authorized.h"
#include "stash/apis/backup.h"
#include "stash/apis/client.h"
#include "stash/apis/events.h"
#include "stash/apis/restore.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

namespace {
std::string S(std::string_view v) { return std::string(v); }
}  // namespace

Result<std::string> RestoreInProgress(const kube::Client& client, const std::string& ns,
                                      const std::string& kind, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(auto sessions, apis::List<apis::RestoreSession>(client, ns));
  for (const apis::RestoreSession& s : sessions) {
    if (!s.spec.target || s.spec.target->ref.kind != kind || s.spec.target->ref.name != name) {
      continue;
    }
    const std::string& phase = s.status.phase;
    if (!s.metadata.deletion_timestamp.empty() || phase == "Succeeded" || phase == "Failed" ||
        phase == "Unknown" || phase == "Invalid") {
      continue;
    }
    return s.metadata.name;
  }
  return std::string();
}

namespace {
Result<std::string> TriggerFor(const kube::Client& client, Clock& clock, const TriggerOptions& opts,
                               const apis::BackupConfiguration& bc);
void ReportAccess(const kube::Client& client, Clock& clock, const apis::BackupConfiguration& bc,
                  const Status& s);
}  // namespace

Result<std::string> CreateBackupSession(const kube::Client& client, Clock& clock,
                                        const TriggerOptions& opts) {
  if (opts.invoker_kind != "BackupConfiguration") {
    return UnsupportedError("invoker kind \"" + opts.invoker_kind +
                            "\" is not supported; only BackupConfiguration is");
  }
  auto bc = apis::Get<apis::BackupConfiguration>(client, opts.ns, opts.invoker_name);
  if (!bc.ok()) {
    // Denied here, the condition cannot be read either: the caller's event says it.
    return Status(bc.status())
        .Prepend("reading BackupConfiguration " + opts.ns + "/" + opts.invoker_name);
  }
  Result<std::string> made = TriggerFor(client, clock, opts, *bc);
  ReportAccess(client, clock, *bc, made.status());
  return made;
}

namespace {

Result<std::string> TriggerFor(const kube::Client& client, Clock& clock, const TriggerOptions& opts,
                               const apis::BackupConfiguration& bc) {
  if (bc.spec.paused) {
    apis::EventRecorder recorder(client, clock, S(kube::kSourceTriggeringCronJob));
    STASH_RETURN_IF_ERROR(
        recorder.Record(bc, apis::kNormal, "Backup Skipped",
                        "Skipping creating BackupSession. Reason: Backup Configuration " + opts.ns +
                            "/" + opts.invoker_name + " is paused."));
    return std::string();
  }
  // A restore of the same workload holds the backups back (stash #1358): a
  // backup now would record a half-restored volume, or race the restore.
  if (bc.spec.target && !bc.spec.target->ref.kind.empty() && !bc.spec.target->ref.name.empty()) {
    const apis::TargetRef& ref = bc.spec.target->ref;
    STASH_ASSIGN_OR_RETURN(std::string restore,
                           RestoreInProgress(client, opts.ns, ref.kind, ref.name));
    if (!restore.empty()) {
      apis::EventRecorder recorder(client, clock, S(kube::kSourceTriggeringCronJob));
      STASH_RETURN_IF_ERROR(
          recorder.Record(bc, apis::kNormal, "Backup Skipped",
                          "Skipping creating BackupSession. Reason: RestoreSession " + opts.ns +
                              "/" + restore + " is restoring " + ref.kind + " " + opts.ns + "/" +
                              ref.name + "; backups resume when it ends."));
      return std::string();
    }
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch());
  const std::string& n = opts.invoker_name;
  apis::BackupSession session;
  session.metadata.name = n + "-" + std::to_string(secs.count());
  session.metadata.namespace_ = opts.ns;
  session.metadata.labels = {{S(kube::kLabelInvokerType), "BackupConfiguration"},
                             {S(kube::kLabelInvokerName), n},
                             {S(kube::kLabelManagedBy), S(kube::kManagedByValue)},
                             {S(kube::kLabelComponent), S(kube::kComponentBackup)},
                             {S(kube::kLabelBackupConfiguration), n}};
  session.metadata.owner_references = {apis::ControllerReference(bc)};
  session.spec.invoker.api_group = "stash.appscode.com";
  session.spec.invoker.kind = "BackupConfiguration";
  session.spec.invoker.name = n;
  // Stash's NewSession: the first try carries all of retryConfig's retries.
  if (bc.spec.retry_config) session.spec.retry_left = bc.spec.retry_config->max_retry.value_or(1);
  auto created = apis::Create(client, session);
  if (!created.ok()) {
    // Two ticks in the same second (or a retried Job) must not fail the trigger.
    if (created.status().code() == Code::kAlreadyExists) return session.metadata.name;
    return Status(created.status())
        .Prepend("creating BackupSession " + opts.ns + "/" + session.metadata.name);
  }
  return session.metadata.name;
}

// The trigger's BackupTriggerAuthorized condition: False naming a refused
// call, True again once a tick works. The condition write may be refused
// too; the caller's event and log say the denial anyway.
void ReportAccess(const kube::Client& client, Clock& clock, const apis::BackupConfiguration& bc,
                  const Status& s) {
  const std::string& ns = bc.metadata.namespace_;
  const std::string cronjob =
      "The backup triggering CronJob " + ns + "/stash-trigger-" + bc.metadata.name;
  const std::string role = "stash-backup-" + bc.metadata.name;
  Status written;
  if (IsDenial(s)) {
    written = SetAuthorized(client, clock, ns, bc.metadata.name, kTriggerAuthorizedCondition, &s,
                            AuthorizedMessage(cronjob, &s, role));
  } else if (s.ok() &&
             apis::ConditionStatus(bc.status.conditions, kTriggerAuthorizedCondition) == "False") {
    written = SetAuthorized(client, clock, ns, bc.metadata.name, kTriggerAuthorizedCondition,
                            nullptr, AuthorizedMessage(cronjob, nullptr, role));
  }
  if (!written.ok()) spdlog::warn("create-backupsession: {}", written.ToString());
}

}  // namespace

}  // namespace stash::agent
