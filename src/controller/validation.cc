#include "stash/controller/validation.h"

#include <algorithm>
#include <set>

#include "stash/backend/factory.h"
#include "stash/kube/client.h"
#include "stash/kube/cron.h"

namespace stash::controller {

namespace {

using json = nlohmann::json;

std::string Str(const json& obj, const char* pointer) {
  json::json_pointer p(pointer);
  if (!obj.is_object() || !obj.contains(p) || !obj.at(p).is_string()) return "";
  return obj.at(p).get<std::string>();
}

// The reason a schedule is refused, without the parser's
// `Invalid value: "<spec>": Invalid schedule: ` preamble.
std::string ScheduleReason(const std::string& message) {
  const std::string marker = "Invalid schedule: ";
  size_t at = message.find(marker);
  return at == std::string::npos ? message : message.substr(at + marker.size());
}

void CheckSchedule(const json& spec, std::vector<std::string>* out) {
  if (!spec.contains("schedule") || !spec["schedule"].is_string() ||
      spec["schedule"].get<std::string>().empty()) {
    out->push_back(
        "spec.schedule is required: the trigger CronJob needs a cron schedule such as "
        "\"*/5 * * * *\"");
    return;
  }
  const std::string schedule = spec["schedule"].get<std::string>();
  if (auto s = kube::ParseCron(schedule); !s.ok()) {
    out->push_back("spec.schedule " + schedule +
                   " is invalid. Reason: " + ScheduleReason(s.status().message()));
  }
}

void CheckTarget(const json& spec, std::vector<std::string>* out) {
  const std::string kind = Str(spec, "/target/ref/kind");
  if (kind.empty()) {
    out->push_back(
        "spec.target.ref.kind is required: the workload to back up (Deployment, "
        "StatefulSet or DaemonSet)");
  } else if (auto r = kube::WorkloadResource(kind); !r.ok()) {
    out->push_back("spec.target.ref.kind " + kind + " is invalid. Reason: " + r.status().message());
  }
  if (Str(spec, "/target/ref/name").empty()) out->push_back("spec.target.ref.name is required");
  const json paths = spec.value("/target/paths"_json_pointer, json::array());
  for (size_t i = 0; i < paths.size(); ++i) {
    std::string p = paths[i].is_string() ? paths[i].get<std::string>() : "";
    if (p.empty() || p[0] != '/') {
      out->push_back("spec.target.paths[" + std::to_string(i) + "] " + p +
                     " is invalid. Reason: must be an absolute path inside a volumeMount");
    }
  }
}

void CheckRetention(const json& spec, std::vector<std::string>* out) {
  const json policy = spec.value("retentionPolicy", json());
  if (!policy.is_object()) {
    out->push_back("spec.retentionPolicy is required: it names which snapshots to keep");
    return;
  }
  if (policy.value("name", "").empty()) out->push_back("spec.retentionPolicy.name is required");
  for (const char* k :
       {"keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"}) {
    if (!policy.contains(k)) continue;
    const json& v = policy[k];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      out->push_back(std::string("spec.retentionPolicy.") + k + " " + v.dump() +
                     " is invalid. Reason: must be a number of snapshots, 0 or more");
    }
  }
  const json tags = policy.value("keepTags", json::array());
  for (size_t i = 0; i < tags.size(); ++i) {
    if (!tags[i].is_string() || tags[i].get<std::string>().empty()) {
      out->push_back("spec.retentionPolicy.keepTags[" + std::to_string(i) +
                     "] is invalid. Reason: a tag must not be empty");
    }
  }
}

}  // namespace

std::vector<std::string> ValidateBackupConfigurationSpec(const json& spec) {
  std::vector<std::string> out;
  // Only the sidecar model with restic is built; say so instead of ignoring.
  if (!Str(spec, "/task/name").empty()) {
    out.push_back("spec.task " + Str(spec, "/task/name") +
                  " is invalid. Reason: Tasks (the job model) are not supported; the stash "
                  "sidecar backs up the target workload, so leave spec.task empty");
  }
  if (std::string driver = Str(spec, "/driver"); !driver.empty() && driver != "Restic") {
    out.push_back("spec.driver " + driver +
                  " is invalid. Reason: only the Restic driver is "
                  "supported");
  }
  CheckSchedule(spec, &out);
  CheckTarget(spec, &out);
  if (Str(spec, "/repository/name").empty()) {
    out.push_back("spec.repository.name is required: the Repository to back up into");
  }
  CheckRetention(spec, &out);
  return out;
}

std::vector<std::string> ValidateRepositorySpec(const json& spec) {
  std::vector<std::string> out;
  const json backend = spec.value("backend", json());
  if (!backend.is_object()) {
    out.push_back("spec.backend is required: where the repository is stored");
    return out;
  }
  // Stash's own rules (apis/stash/v1alpha1/validator.go), in its words.
  if (spec.value("wipeOut", false)) {
    if (backend.contains("local")) {
      out.push_back("wipe out operation is not supported for local backend");
    } else if (backend.contains("b2")) {
      out.push_back("wipe out operation is not supported for B2 backend");
    } else {
      out.push_back(
          "wipe out operation is not supported by this Stash: the backed up data "
          "stays in the backend when the Repository is deleted; set spec.wipeOut to "
          "false");
    }
  }
  const std::string mount = Str(backend, "/local/mountPath");
  if (mount == "/stash" || mount.rfind("/stash/", 0) == 0) {
    out.push_back(
        "Invalid `mountPath` specification for local backend. Reason: We have put `stash` "
        "binary  in the root directory. Hence, you can not use `/stash` or `/stash/*` as "
        "`mountPath`. Hints: Use `/stash-backup` or anything else except the forbidden ones as "
        "`mountPath`");
  }
  // The shape, as the engine will read it (no credentials needed for that).
  auto parsed = backend::FromStashRepository(backend, {{"RESTIC_PASSWORD", "-"}});
  if (!parsed.ok()) {
    out.push_back("spec.backend is invalid. Reason: " + parsed.status().message());
  }
  return out;
}

}  // namespace stash::controller
