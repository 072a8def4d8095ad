#include "stash/agent/trigger.h"

#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

using kube::json;

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
  auto created = client.Create(kube::res::kBackupSessions, opts.ns, session);
  if (!created.ok()) {
    // Two ticks in the same second (or a retried Job) must not fail the trigger.
    if (created.status().code() == Code::kAlreadyExists) return name;
    return Status(created.status()).Prepend("creating BackupSession " + opts.ns + "/" + name);
  }
  return name;
}

}  // namespace stash::agent
