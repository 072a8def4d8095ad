#include "stash/controller/validation.h"

#include <optional>
#include <utility>

#include "stash/apis/codec.h"
#include "stash/backend/factory.h"
#include "stash/kube/client.h"
#include "stash/kube/cron.h"

namespace stash::controller {

namespace {

// The reason a schedule is refused, without the parser's
// `Invalid value: "<spec>": Invalid schedule: ` preamble.
std::string ScheduleReason(const std::string& message) {
  const std::string marker = "Invalid schedule: ";
  size_t at = message.find(marker);
  return at == std::string::npos ? message : message.substr(at + marker.size());
}

void CheckSchedule(const std::string& schedule, std::vector<std::string>* out) {
  if (schedule.empty()) {
    out->push_back(
        "spec.schedule is required: the trigger CronJob needs a cron schedule such as "
        "\"*/5 * * * *\"");
    return;
  }
  if (auto s = kube::ParseCron(schedule); !s.ok()) {
    out->push_back("spec.schedule " + schedule +
                   " is invalid. Reason: " + ScheduleReason(s.status().message()));
  }
}

void CheckTarget(const std::optional<apis::BackupTarget>& target, std::vector<std::string>* out) {
  const std::string kind = target ? target->ref.kind : "";
  if (kind.empty()) {
    out->push_back(
        "spec.target.ref.kind is required: the workload to back up (Deployment, "
        "StatefulSet or DaemonSet)");
  } else if (auto r = kube::WorkloadResource(kind); !r.ok()) {
    out->push_back("spec.target.ref.kind " + kind + " is invalid. Reason: " + r.status().message());
  }
  if (!target || target->ref.name.empty()) out->push_back("spec.target.ref.name is required");
  if (!target) return;
  for (size_t i = 0; i < target->paths.size(); ++i) {
    const std::string& p = target->paths[i];
    if (p.empty() || p[0] != '/') {
      out->push_back("spec.target.paths[" + std::to_string(i) + "] " + p +
                     " is invalid. Reason: must be an absolute path inside a volumeMount");
    }
  }
}

void CheckRetention(const std::optional<apis::RetentionPolicy>& policy,
                    std::vector<std::string>* out) {
  if (!policy) {
    out->push_back("spec.retentionPolicy is required: it names which snapshots to keep");
    return;
  }
  if (policy->name.empty()) out->push_back("spec.retentionPolicy.name is required");
  const std::pair<const char*, int64_t> keeps[] = {
      {"keepLast", policy->keep_last},       {"keepHourly", policy->keep_hourly},
      {"keepDaily", policy->keep_daily},     {"keepWeekly", policy->keep_weekly},
      {"keepMonthly", policy->keep_monthly}, {"keepYearly", policy->keep_yearly}};
  for (const auto& [key, n] : keeps) {
    if (n < 0) {
      out->push_back(std::string("spec.retentionPolicy.") + key + " " + std::to_string(n) +
                     " is invalid. Reason: must be a number of snapshots, 0 or more");
    }
  }
  for (size_t i = 0; i < policy->keep_tags.size(); ++i) {
    if (policy->keep_tags[i].empty()) {
      out->push_back("spec.retentionPolicy.keepTags[" + std::to_string(i) +
                     "] is invalid. Reason: a tag must not be empty");
    }
  }
}

}  // namespace

std::vector<std::string> ValidateBackupConfigurationSpec(
    const apis::BackupConfigurationSpec& spec) {
  std::vector<std::string> out;
  // Only the sidecar model with restic is built; say so instead of ignoring.
  if (!spec.task.name.empty()) {
    out.push_back("spec.task " + spec.task.name +
                  " is invalid. Reason: Tasks (the job model) are not supported; the stash "
                  "sidecar backs up the target workload, so leave spec.task empty");
  }
  if (!spec.driver.empty() && spec.driver != "Restic") {
    out.push_back("spec.driver " + spec.driver +
                  " is invalid. Reason: only the Restic driver is "
                  "supported");
  }
  CheckSchedule(spec.schedule, &out);
  CheckTarget(spec.target, &out);
  if (spec.repository.name.empty()) {
    out.push_back("spec.repository.name is required: the Repository to back up into");
  }
  CheckRetention(spec.retention_policy, &out);
  return out;
}

std::vector<std::string> ValidateRepositorySpec(const apis::RepositorySpec& spec) {
  std::vector<std::string> out;
  const apis::Backend& backend = spec.backend;
  if (apis::IsZeroField(backend)) {
    out.push_back("spec.backend is required: where the repository is stored");
    return out;
  }
  // Stash's own rules (apis/stash/v1alpha1/validator.go), in its words.
  if (spec.wipe_out) {
    if (backend.local) {
      out.push_back("wipe out operation is not supported for local backend");
    } else if (backend.b2) {
      out.push_back("wipe out operation is not supported for B2 backend");
    } else {
      out.push_back(
          "wipe out operation is not supported by this Stash: the backed up data "
          "stays in the backend when the Repository is deleted; set spec.wipeOut to "
          "false");
    }
  }
  const std::string mount = backend.local ? backend.local->mount_path : "";
  if (mount == "/stash" || mount.rfind("/stash/", 0) == 0) {
    out.push_back(
        "Invalid `mountPath` specification for local backend. Reason: We have put `stash` "
        "binary  in the root directory. Hence, you can not use `/stash` or `/stash/*` as "
        "`mountPath`. Hints: Use `/stash-backup` or anything else except the forbidden ones as "
        "`mountPath`");
  }
  // The shape, as the engine will read it (no credentials needed for that).
  auto parsed = backend::FromStashRepository(apis::ToJson(backend), {{"RESTIC_PASSWORD", "-"}});
  if (!parsed.ok()) {
    out.push_back("spec.backend is invalid. Reason: " + parsed.status().message());
  }
  return out;
}

}  // namespace stash::controller
