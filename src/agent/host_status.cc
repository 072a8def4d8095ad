#include "stash/agent/host_status.h"

#include <algorithm>

#include "stash/agent/format.h"
#include "stash/apis/client.h"
#include "stash/kube/duration.h"
#include "stash/kube/events.h"

namespace stash::agent {

namespace {

bool SameTarget(const apis::TargetRef& a, const apis::TargetRef& b) {
  return a.kind == b.kind && a.name == b.name;
}

void UpsertCondition(std::vector<apis::Condition>* conditions, const apis::Condition& c) {
  for (apis::Condition& have : *conditions) {
    if (have.type != c.type) continue;
    // The first time it became this status stays the transition time.
    const std::string since =
        have.status == c.status ? have.last_transition_time : c.last_transition_time;
    have = c;
    if (!since.empty()) have.last_transition_time = since;
    return;
  }
  conditions->push_back(c);
}

// The post-backup actions' conditions: a False one fails the session.
constexpr const char* kPostBackupConditions[] = {
    "RetentionPolicyApplied", "RepositoryIntegrityVerified", "RepositoryMetricsPushed"};

}  // namespace

std::string TargetPhase(const apis::BackupTargetStatus& target) {
  for (const apis::Condition& c : target.conditions) {
    const bool failed_hook =
        (c.type == "PreBackupHookExecutionSucceeded" || c.type == "BackupExecutorEnsured" ||
         c.type == "PostBackupHookExecutionSucceeded") &&
        c.status == "False";
    if (failed_hook || (c.type == "BackupDisrupted" && c.status == "True")) return "Failed";
  }
  if (!target.total_hosts) return "Pending";
  int32_t succeeded = 0, failed = 0;
  for (const apis::HostBackupStats& h : target.stats) {
    if (h.phase == "Succeeded") ++succeeded;
    if (h.phase == "Failed") ++failed;
  }
  if (succeeded + failed < *target.total_hosts) return "Running";
  return failed > 0 ? "Failed" : "Succeeded";
}

std::string SessionPhase(const apis::BackupSessionStatus& status, bool post_actions_done) {
  if (apis::ConditionStatus(status.conditions, "BackupSkipped") == "True") return "Skipped";
  if (status.targets.empty()) return "Pending";
  bool all_pending = true, all_done = true, any_failed = false;
  for (const apis::BackupTargetStatus& t : status.targets) {
    const std::string phase = TargetPhase(t);
    all_pending &= phase == "Pending";
    all_done &= phase == "Succeeded" || phase == "Failed";
    any_failed |= phase == "Failed";
  }
  if (all_pending) return "Pending";
  if (!all_done) return "Running";
  // Every host has reported: one failure fails the session; a full success
  // waits for the post-backup actions.
  if (any_failed) return "Failed";
  if (!post_actions_done) return "Running";
  if (apis::ConditionStatus(status.conditions, "DeadlineExceeded") == "True") return "Failed";
  for (const char* type : kPostBackupConditions) {
    if (apis::ConditionStatus(status.conditions, type) == "False") return "Failed";
  }
  return "Succeeded";
}

apis::BackupSessionStatus MergeHostReport(apis::BackupSessionStatus status,
                                          const HostReport& report) {
  auto target = std::find_if(status.targets.begin(), status.targets.end(),
                             [&](const auto& t) { return SameTarget(t.ref, report.ref); });
  if (target == status.targets.end()) {
    apis::BackupTargetStatus added;
    added.ref = report.ref;
    status.targets.push_back(added);
    target = status.targets.end() - 1;
  }
  if (!target->total_hosts) target->total_hosts = report.total_hosts;
  auto host = std::find_if(target->stats.begin(), target->stats.end(),
                           [&](const auto& h) { return h.hostname == report.stats.hostname; });
  if (host != target->stats.end()) {
    *host = report.stats;
  } else {
    target->stats.push_back(report.stats);
  }
  for (const apis::Condition& c : report.target_conditions) UpsertCondition(&target->conditions, c);
  for (const apis::Condition& c : report.session_conditions) UpsertCondition(&status.conditions, c);
  target->phase = TargetPhase(*target);
  status.phase = SessionPhase(status, /*post_actions_done=*/false);
  return status;
}

bool AllHostsReported(const apis::BackupSessionStatus& status) {
  if (status.targets.empty()) return false;
  for (const apis::BackupTargetStatus& t : status.targets) {
    const std::string phase = TargetPhase(t);
    if (phase == "Pending" || phase == "Running") return false;
  }
  return true;
}

Result<apis::BackupSession> UpdateSessionStatus(
    const kube::Client& client, apis::BackupSession seen,
    const std::function<bool(apis::BackupSessionStatus*)>& mutate, const nlohmann::json& extra,
    int attempts) {
  for (int attempt = 1;; ++attempt) {
    apis::BackupSessionStatus status = seen.status;
    if (!mutate(&status)) return seen;
    apis::json status_patch = apis::ToJson(status);
    status_patch.update(extra);  // a null (as is) removes the member
    apis::json patch = {{"status", std::move(status_patch)},
                        {"metadata", {{"resourceVersion", seen.metadata.resource_version}}}};
    auto written = apis::MergePatch<apis::BackupSession>(client, seen.metadata, patch, "status");
    if (written.ok() || written.status().code() != Code::kConflict) return written;
    if (attempt >= attempts) {
      return Status(written.status())
          .Prepend("BackupSession " + seen.metadata.namespace_ + "/" + seen.metadata.name +
                   ": still conflicting after " + std::to_string(attempts) + " attempts");
    }
    // Another host wrote meanwhile: merge into what it wrote.
    STASH_ASSIGN_OR_RETURN(
        seen, apis::Get<apis::BackupSession>(client, seen.metadata.namespace_, seen.metadata.name));
  }
}

Result<apis::BackupSession> RecordHostReport(const kube::Client& client,
                                             const apis::BackupSession& seen,
                                             const HostReport& report, SystemTime now) {
  const std::string created = seen.metadata.creation_timestamp;
  return UpdateSessionStatus(client, seen,
                             [&](apis::BackupSessionStatus* status) {
                               *status = MergeHostReport(std::move(*status), report);
                               if (apis::IsFinalPhase(status->phase)) {
                                 if (auto t = kube::ParseTime(created); t.ok()) {
                                   status->session_duration = FormatGoDuration(now - *t);
                                 }
                               }
                               return true;
                             },
                             {{"progress", nullptr}});  // the reporting host's progress is over
}

Result<apis::BackupSession> RecordPostBackupActions(const kube::Client& client,
                                                    const apis::BackupSession& seen,
                                                    const std::vector<apis::Condition>& conditions,
                                                    SystemTime now) {
  const std::string created = seen.metadata.creation_timestamp;
  return UpdateSessionStatus(client, seen,
                             [&](apis::BackupSessionStatus* status) {
                               for (const apis::Condition& c : conditions)
                                 UpsertCondition(&status->conditions, c);
                               status->phase = SessionPhase(*status, /*post_actions_done=*/true);
                               if (auto t = kube::ParseTime(created); t.ok()) {
                                 status->session_duration = FormatGoDuration(now - *t);
                               }
                               return true;
                             },
                             {{"progress", nullptr}});
}

}  // namespace stash::agent
