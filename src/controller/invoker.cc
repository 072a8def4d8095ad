#include "stash/controller/invoker.h"

#include <cstdio>

#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

std::string S(std::string_view v) { return std::string(v); }

uint64_t Fnv1a(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (char c : data) {
    h ^= uint8_t(c);
    h *= 1099511628211ull;
  }
  return h;
}

json OwnerReference(const json& bc) {
  return {{"apiVersion", bc.value("apiVersion", "stash.appscode.com/v1beta1")},
          {"kind", "BackupConfiguration"},
          {"name", bc["metadata"].value("name", "")},
          {"uid", bc["metadata"].value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

json* PodSpec(json* workload) { return &(*workload)["spec"]["template"]["spec"]; }

}  // namespace

std::string InvokerHash(const json& bc) {
  json spec = bc.value("spec", json::object());
  spec["paused"] = false;
  char buf[24];
  snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(Fnv1a(spec.dump())));
  return buf;
}

json SidecarContainer(const json& bc, std::string_view image, std::string_view pushgateway_url) {
  const json& meta = bc["metadata"];
  const json& target = bc["spec"].value("target", json::object());
  const json& ref = target.value("ref", json::object());
  std::string ns = meta.value("namespace", "default");
  json args = json::array(
      {"run-backup", "--invoker-kind=BackupConfiguration",
       "--invoker-name=" + meta.value("name", ""), "--target-kind=" + ref.value("kind", ""),
       "--target-name=" + ref.value("name", ""), "--target-namespace=" + ref.value("namespace", ns),
       "--enable-cache=" + std::string(bc.value("/spec/tempDir/disableCaching"_json_pointer, false)
                                           ? "false"
                                           : "true"),
       "--max-connections=0"});
  if (pushgateway_url.empty()) {
    args.push_back("--metrics-enabled=false");
  } else {
    args.push_back("--metrics-enabled=true");
    args.push_back("--pushgateway-url=" + std::string(pushgateway_url));
  }
  json env = json::array(
      {{{"name", "NODE_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}},
       {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
       {{"name", "POD_NAMESPACE"},
        {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}}});
  json mounts = target.value("volumeMounts", json::array());
  return {{"name", S(kube::kSidecarName)},
          {"image", S(image)},
          {"imagePullPolicy", "IfNotPresent"},
          {"args", args},
          {"env", env},
          {"volumeMounts", mounts}};
}

bool InjectSidecar(json* workload, const json& bc, const json* repository, std::string_view image,
                   std::string_view pushgateway_url) {
  json before = *workload;
  json* pod = PodSpec(workload);
  json container = SidecarContainer(bc, image, pushgateway_url);
  // A local backend is mounted into the sidecar at its mountPath, as Stash does.
  json local_volume;
  if (repository) {
    const json local = repository->value("/spec/backend/local"_json_pointer, json());
    if (local.is_object() && local.contains("mountPath")) {
      local_volume = local;
      local_volume.erase("mountPath");
      local_volume.erase("subPath");
      local_volume["name"] = S(kube::kLocalBackendVolume);
      json mount = {{"name", S(kube::kLocalBackendVolume)}, {"mountPath", local["mountPath"]}};
      if (local.contains("subPath")) mount["subPath"] = local["subPath"];
      container["volumeMounts"].push_back(mount);
    }
  }
  json& containers = (*pod)["containers"];
  if (!containers.is_array()) containers = json::array();
  bool placed = false;
  for (json& c : containers) {
    if (c.value("name", "") == kube::kSidecarName) {
      c = container;
      placed = true;
    }
  }
  if (!placed) containers.push_back(container);
  json& volumes = (*pod)["volumes"];
  if (!volumes.is_array()) volumes = json::array();
  json kept = json::array();
  for (const json& v : volumes) {
    if (v.value("name", "") != kube::kLocalBackendVolume) kept.push_back(v);
  }
  if (!local_volume.is_null()) kept.push_back(local_volume);
  volumes = kept;
  (*workload)["spec"]["template"]["metadata"]["annotations"][S(kube::kAnnotationInvokerHash)] =
      InvokerHash(bc);
  json& annotations = (*workload)["metadata"]["annotations"];
  annotations[S(kube::kAnnotationInvokerKind)] = "BackupConfiguration";
  annotations[S(kube::kAnnotationInvoker)] = bc["metadata"].value("name", "");
  return *workload != before;
}

bool RemoveSidecar(json* workload) {
  json before = *workload;
  json* pod = PodSpec(workload);
  for (const char* list : {"containers", "volumes"}) {
    if (!pod->contains(list)) continue;
    json kept = json::array();
    for (const json& item : (*pod)[list]) {
      std::string name = item.value("name", "");
      if (name != kube::kSidecarName && name != kube::kLocalBackendVolume) kept.push_back(item);
    }
    (*pod)[list] = kept;
  }
  if (workload->contains("/spec/template/metadata/annotations"_json_pointer)) {
    json& tmeta = (*workload)["spec"]["template"]["metadata"];
    tmeta["annotations"].erase(S(kube::kAnnotationInvokerHash));
    // Back to the template as the user wrote it, so its pods' hash is the old one.
    if (tmeta["annotations"].empty()) tmeta.erase("annotations");
  }
  if (workload->contains("/metadata/annotations"_json_pointer)) {
    (*workload)["metadata"]["annotations"].erase(S(kube::kAnnotationInvokerKind));
    (*workload)["metadata"]["annotations"].erase(S(kube::kAnnotationInvoker));
  }
  return *workload != before;
}

std::string TriggerCronJobName(std::string_view bc_name) {
  std::string name = "stash-trigger-" + std::string(bc_name);
  for (char& c : name) {
    if (c == '.') c = '-';
  }
  if (name.size() > 52) name.resize(52);  // CronJob names are capped at 52
  return name;
}

json TriggerCronJob(const json& bc, std::string_view image) {
  const json& meta = bc["metadata"];
  std::string name = meta.value("name", "");
  json labels = {{S(kube::kLabelManagedBy), S(kube::kManagedByValue)},
                 {S(kube::kLabelInvokerType), "BackupConfiguration"},
                 {S(kube::kLabelInvokerName), name}};
  json container = {{"name", S(kube::kSidecarName)},
                    {"image", S(image)},
                    {"imagePullPolicy", "IfNotPresent"},
                    {"args", json::array({"create-backupsession", "--invoker-name=" + name,
                                          "--invoker-kind=BackupConfiguration"})}};
  return {{"apiVersion", "batch/v1"},
          {"kind", "CronJob"},
          {"metadata",
           {{"name", TriggerCronJobName(name)},
            {"namespace", meta.value("namespace", "default")},
            {"labels", labels},
            {"ownerReferences", json::array({OwnerReference(bc)})}}},
          {"spec",
           {{"schedule", bc["spec"].value("schedule", "")},
            {"concurrencyPolicy", "Forbid"},
            {"suspend", false},
            {"jobTemplate",
             {{"metadata", {{"labels", {{"stash.appscode.com/delete-job-on-completion", "true"}}}}},
              {"spec",
               {{"template",
                 {{"spec",
                   {{"restartPolicy", "Never"},
                    // Made by the operator, bound to the BackupConfiguration's Role (rbac.h).
                    {"serviceAccountName", TriggerCronJobName(name)},
                    {"containers", json::array({container})}}}}}}}}}}}};
}

bool CronJobNeedsUpdate(const json& existing, const json& desired) {
  static const json::json_pointer kPaths[] = {
      "/spec/schedule"_json_pointer, "/spec/suspend"_json_pointer,
      "/spec/jobTemplate/spec/template/spec/containers"_json_pointer,
      "/spec/jobTemplate/spec/template/spec/serviceAccountName"_json_pointer,
      "/metadata/ownerReferences"_json_pointer};
  for (const auto& p : kPaths) {
    json a = existing.contains(p) ? existing.at(p) : json();
    json b = desired.contains(p) ? desired.at(p) : json();
    if (a != b) return true;
  }
  return false;
}

bool SetCondition(json* conditions, std::string_view type, bool status, std::string_view reason,
                  std::string_view message, SystemTime now, int64_t generation) {
  if (!conditions->is_array()) *conditions = json::array();
  std::string st = status ? "True" : "False";
  for (json& c : *conditions) {
    if (c.value("type", "") != type) continue;
    json before = c;
    if (c.value("status", "") != st) c["lastTransitionTime"] = kube::FormatTime(now);
    c["status"] = st;
    c["reason"] = reason;
    c["message"] = message;
    c["observedGeneration"] = generation;
    return c != before;
  }
  conditions->push_back({{"type", type},
                         {"status", st},
                         {"reason", reason},
                         {"message", message},
                         {"lastTransitionTime", kube::FormatTime(now)},
                         {"observedGeneration", generation}});
  return true;
}

std::string ConditionStatus(const json& conditions, std::string_view type) {
  if (!conditions.is_array()) return "";
  for (const json& c : conditions) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

std::string ComputePhase(const json& conditions) {
  auto is_true = [&](std::string_view t) { return ConditionStatus(conditions, t) == "True"; };
  if (ConditionStatus(conditions, kValidationPassed) == "False") return "Invalid";
  if (!is_true(kRepositoryFound) || !is_true(kBackendSecretFound) || !is_true(kBackupTargetFound)) {
    return "NotReady";
  }
  if (is_true(kValidationPassed) && is_true(kCronJobCreated)) return "Ready";
  return "NotReady";
}

}  // namespace stash::controller
