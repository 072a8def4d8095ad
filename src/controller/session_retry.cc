// Stash's retryConfig for BackupConfigurations (stash-api.md §3.1 step 1): a
// Failed BackupSession with spec.retryLeft > 0 that was not retried yet gets
// a successor session once retryConfig.delay has passed since it failed.
#include <spdlog/spdlog.h>

#include "backup_configuration_caches.h"
#include "stash/apis/client.h"
#include "stash/controller/backup_configuration_controller.h"
#include "stash/kube/duration.h"
#include "stash/kube/events.h"

namespace stash::controller {

bool NeedsRetry(const apis::BackupSession& session) {
  return session.status.phase == "Failed" && session.spec.retry_left > 0 &&
         !session.status.retried.value_or(false);
}

Result<apis::BackupSession> RetrySession(const apis::BackupSession& failed, SystemTime at) {
  const std::string& invoker = failed.spec.invoker.name;
  if (invoker.empty()) return InvalidError("BackupSession has no spec.invoker.name");
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  apis::BackupSession next;
  next.api_version = apis::BackupSession::Resource().ApiVersion();
  next.kind = apis::BackupSession::Resource().kind;
  next.metadata.name = invoker + "-" + std::to_string(secs);
  next.metadata.namespace_ = failed.metadata.namespace_;
  next.metadata.labels = failed.metadata.labels;
  next.metadata.owner_references = failed.metadata.owner_references;
  next.spec = failed.spec;
  next.spec.retry_left = failed.spec.retry_left - 1;
  return next;
}

Status BackupConfigurationController::ReconcileRetry(const apis::BackupSession& session) {
  if (!NeedsRetry(session)) return Status::Ok();
  const std::string& ns = session.metadata.namespace_;
  const std::string& name = session.metadata.name;
  auto bc = caches_->bcs.Get(ns, session.spec.invoker.name);
  if (!bc.ok()) return bc.status().code() == Code::kNotFound ? Status::Ok() : bc.status();
  if ((*bc)->spec.paused) return Status::Ok();  // no new backups
  Duration delay{0};
  if ((*bc)->spec.retry_config && !(*bc)->spec.retry_config->delay.empty()) {
    auto parsed = kube::ParseGoDuration((*bc)->spec.retry_config->delay);
    if (parsed.ok()) delay = *parsed;
  }
  const SystemTime now = clock_.Now();
  std::string next = session.status.next_retry;
  if (next.empty()) {
    // The retry's time is written first, so the successor's name (from it)
    // is the same if the operator restarts before creating it.
    next = kube::FormatTime(now + delay);
    apis::BackupSessionStatus status;
    status.next_retry = next;
    STASH_RETURN_IF_ERROR(apis::PatchStatus(client_, session, status));
  }
  STASH_ASSIGN_OR_RETURN(SystemTime at, kube::ParseTime(next));
  if (now < at) {
    queue_.AddAfter("bs:" + ns + "/" + name, at - now);
    return Status::Ok();
  }
  STASH_ASSIGN_OR_RETURN(apis::BackupSession successor, RetrySession(session, at));
  auto created = apis::Create(client_, successor);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  spdlog::info("BackupSession {}/{} failed; retrying as {} ({} retries left)", ns, name,
               successor.metadata.name, successor.spec.retry_left);
  apis::BackupSessionStatus retried;
  retried.retried = true;
  return apis::PatchStatus(client_, session, retried).status();
}

}  // namespace stash::controller
