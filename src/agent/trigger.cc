#include "stash/agent/trigger.h"

#include "stash/apis/client.h"
#include "stash/apis/restore.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

using kube::json;

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

Result<std::string> CreateBackupSession(const kube::Client& client, Clock& clock,
                                        const TriggerOptions& opts) {
  if (opts.invoker_kind != "BackupConfiguration") {
    return UnsupportedError("invoker kind \"" + opts.invoker_kind +
                            "\" is not supported; only BackupConfiguration is");
  }
  auto got = client.Get(kube::res::kBackupConfigurations, opts.ns, opts.invoker_name);
  if (!got.ok()) {
    return Status(got.status())
        .Prepend("reading BackupConfiguration " + opts.ns + "/" + opts.invoker_name);
  }
  json bc = std::move(*got);
  bc["apiVersion"] = kube::res::kBackupConfigurations.ApiVersion();
  bc["kind"] = "BackupConfiguration";
  if (bc.value("/spec/paused"_json_pointer, false)) {
    kube::EventRecorder recorder(client, clock, std::string(kube::kSourceTriggeringCronJob));
    STASH_RETURN_IF_ERROR(
        recorder.Record(bc, kube::kNormal, "Backup Skipped",
                        "Skipping creating BackupSession. Reason: Backup Configuration " + opts.ns +
                            "/" + opts.invoker_name + " is paused."));
    return std::string();
  }
  // A restore of the same workload holds the backups back (stash #1358): a
  // backup now would record a half-restored volume, or race the restore.
  const std::string kind = bc.value("/spec/target/ref/kind"_json_pointer, "");
  const std::string target = bc.value("/spec/target/ref/name"_json_pointer, "");
  if (!kind.empty() && !target.empty()) {
    STASH_ASSIGN_OR_RETURN(std::string restore, RestoreInProgress(client, opts.ns, kind, target));
    if (!restore.empty()) {
      kube::EventRecorder recorder(client, clock, std::string(kube::kSourceTriggeringCronJob));
      STASH_RETURN_IF_ERROR(
          recorder.Record(bc, kube::kNormal, "Backup Skipped",
                          "Skipping creating BackupSession. Reason: RestoreSession " + opts.ns +
                              "/" + restore + " is restoring " + kind + " " + opts.ns + "/" +
                              target + "; backups resume when it ends."));
      return std::string();
    }
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch());
  std::string name = opts.invoker_name + "-" + std::to_string(secs.count());
  const json& meta = bc["metadata"];
  const std::string n = opts.invoker_name;
  json session = {
      {"metadata",
       {{"name", name},
        {"namespace", opts.ns},
        {"labels",
         {{std::string(kube::kLabelInvokerType), "BackupConfiguration"},
          {std::string(kube::kLabelInvokerName), n},
          {std::string(kube::kLabelManagedBy), std::string(kube::kManagedByValue)},
          {std::string(kube::kLabelComponent), std::string(kube::kComponentBackup)},
          {std::string(kube::kLabelBackupConfiguration), n}}},
        {"ownerReferences", json::array({{{"apiVersion", bc["apiVersion"]},
                                          {"kind", "BackupConfiguration"},
                                          {"name", n},
                                          {"uid", meta.value("uid", "")},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}})}}},
      {"spec",
       {{"invoker",
         {{"apiGroup", "stash.appscode.com"}, {"kind", "BackupConfiguration"}, {"name", n}}}}}};
  // Stash's NewSession: the first try carries all of retryConfig's retries.
  if (bc.contains("/spec/retryConfig"_json_pointer)) {
    session["spec"]["retryLeft"] =
        bc.value("/spec/retryConfig/maxRetry"_json_pointer, 1);  // Stash's default: 1
  }
  auto created = client.Create(kube::res::kBackupSessions, opts.ns, session);
  if (!created.ok()) {
    // Two ticks in the same second (or a retried Job) must not fail the trigger.
    if (created.status().code() == Code::kAlreadyExists) return name;
    return Status(created.status()).Prepend("creating BackupSession " + opts.ns + "/" + name);
  }
  return name;
}

}  // namespace stash::agent
