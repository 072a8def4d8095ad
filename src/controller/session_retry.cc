// Stash's retryConfig for BackupConfigurations (stash-api.md §3.1 step 1): a
// Failed BackupSession with spec.retryLeft > 0 that was not retried yet gets
// a successor session once retryConfig.delay has passed since it failed.
#include <spdlog/spdlog.h>

#include "stash/controller/backup_configuration_controller.h"
#include "stash/kube/duration.h"
#include "stash/kube/events.h"

namespace stash::controller {

namespace res = kube::res;

bool NeedsRetry(const json& session) {
  return session.value("/status/phase"_json_pointer, "") == "Failed" &&
         session.value("/spec/retryLeft"_json_pointer, 0) > 0 &&
         !session.value("/status/retried"_json_pointer, false);
}

Result<json> RetrySession(const json& failed, SystemTime at) {
  const json& meta = failed["metadata"];
  std::string invoker = failed.value("/spec/invoker/name"_json_pointer, "");
  if (invoker.empty()) return InvalidError("BackupSession has no spec.invoker.name");
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  json next_meta = {{"name", invoker + "-" + std::to_string(secs)},
                    {"namespace", meta.value("namespace", "")}};
  for (const char* k : {"labels", "ownerReferences"}) {
    if (meta.contains(k)) next_meta[k] = meta[k];
  }
  json spec = failed["spec"];
  spec["retryLeft"] = failed["spec"].value("retryLeft", 0) - 1;
  return json{{"apiVersion", res::kBackupSessions.ApiVersion()},
              {"kind", res::kBackupSessions.kind},
              {"metadata", next_meta},
              {"spec", spec}};
}

Status BackupConfigurationController::ReconcileRetry(const json& session) {
  if (!NeedsRetry(session)) return Status::Ok();
  const std::string ns = session["metadata"].value("namespace", "");
  const std::string name = session["metadata"].value("name", "");
  const std::string invoker = session.value("/spec/invoker/name"_json_pointer, "");
  auto bc = client_.Get(res::kBackupConfigurations, ns, invoker);
  if (!bc.ok()) return bc.status().code() == Code::kNotFound ? Status::Ok() : bc.status();
  if (bc->value("/spec/paused"_json_pointer, false)) return Status::Ok();  // no new backups
  Duration delay{0};
  if (std::string d = bc->value("/spec/retryConfig/delay"_json_pointer, ""); !d.empty()) {
    auto parsed = kube::ParseGoDuration(d);
    if (parsed.ok()) delay = *parsed;
  }
  const SystemTime now = clock_.Now();
  std::string next = session.value("/status/nextRetry"_json_pointer, "");
  if (next.empty()) {
    // The retry's time is written first, so the successor's name (from it)
    // is the same if the operator restarts before creating it.
    next = kube::FormatTime(now + delay);
    STASH_RETURN_IF_ERROR(client_.Patch(res::kBackupSessions, ns, name, kube::PatchType::kMerge,
                                        {{"status", {{"nextRetry", next}}}}, "status"));
  }
  STASH_ASSIGN_OR_RETURN(SystemTime at, kube::ParseTime(next));
  if (now < at) {
    queue_.AddAfter("bs:" + ns + "/" + name, at - now);
    return Status::Ok();
  }
  STASH_ASSIGN_OR_RETURN(json successor, RetrySession(session, at));
  auto created = client_.Create(res::kBackupSessions, ns, successor);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  spdlog::info("BackupSession {}/{} failed; retrying as {} ({} retries left)", ns, name,
               successor["metadata"].value("name", ""), successor["spec"].value("retryLeft", 0));
  return client_
      .Patch(res::kBackupSessions, ns, name, kube::PatchType::kMerge,
             {{"status", {{"retried", true}}}}, "status")
      .status();
}

}  // namespace stash::controller
