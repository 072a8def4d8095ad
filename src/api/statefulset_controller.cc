// StatefulSetController (workloads.h): pods with stable names and their own
// claims, after kube's pkg/controller/statefulset.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "object_meta.h"
#include "workloads.h"

namespace stash::api {

using namespace workload;  // NOLINT: the workload helpers

namespace {

const char* kStatefulSets = "apps/statefulsets";
const char* kPods = "/pods";
const char* kClaims = "/persistentvolumeclaims";
const char* kRevisionLabel = "controller-revision-hash";
const char* kComponent = "statefulset-controller";

// The ordinal of a pod named "<set>-<n>", or -1.
int64_t OrdinalOf(const std::string& set, const std::string& pod) {
  if (pod.size() <= set.size() + 1 || pod.compare(0, set.size() + 1, set + "-") != 0) return -1;
  const std::string n = pod.substr(set.size() + 1);
  if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos ||
      (n.size() > 1 && n[0] == '0')) {
    return -1;
  }
  return std::stoll(n);
}

std::string ClaimName(const json& tmpl, const std::string& set, int64_t ordinal) {
  return MetaField(tmpl, "name") + "-" + set + "-" + std::to_string(ordinal);
}

}  // namespace

void StatefulSetController::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  if (event.resource == kStatefulSets) {
    ctx_.queue.Add("sts/" + event.ns + "|" + MetaField(object, "name"));
  } else if (event.resource == kPods) {
    for (const OwnerRef& r : OwnerRefs(object)) {
      if (r.controller && r.kind == "StatefulSet") ctx_.queue.Add("sts/" + event.ns + "|" + r.name);
    }
  }
}

void StatefulSetController::Process(const std::string& item) {
  size_t bar = item.find('|');
  if (bar == std::string::npos) return;
  Sync(item.substr(0, bar), item.substr(bar + 1));
}

bool StatefulSetController::EnsureClaims(const json& sts, int64_t ordinal) {
  const json templates = sts.value("/spec/volumeClaimTemplates"_json_pointer, json::array());
  if (!templates.is_array() || templates.empty()) return true;
  auto info = ctx_.ResourceForKey(kClaims);
  if (!info) return false;
  const std::string ns = MetaField(sts, "namespace"), set = MetaField(sts, "name");
  const bool delete_with_set =
      Str(sts, "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted"_json_pointer) == "Delete";
  json selector_labels = sts.value("/spec/selector/matchLabels"_json_pointer, json::object());
  for (const json& tmpl : templates) {
    const std::string name = ClaimName(tmpl, set, ordinal);
    if (ctx_.store.Get(kClaims, ns, name)) continue;
    json meta = tmpl.value("metadata", json::object());
    if (!meta.is_object()) meta = json::object();
    json labels = meta.value("labels", json::object());
    if (!labels.is_object()) labels = json::object();
    if (selector_labels.is_object()) {
      for (const auto& [k, v] : selector_labels.items()) labels[k] = v;
    }
    meta = {{"name", name}, {"namespace", ns}, {"labels", labels}};
    if (tmpl.contains("/metadata/annotations"_json_pointer)) {
      meta["annotations"] = tmpl["metadata"]["annotations"];
    }
    if (delete_with_set) meta["ownerReferences"] = json::array({ControllerRef(sts)});
    json claim = {{"apiVersion", "v1"},
                  {"kind", "PersistentVolumeClaim"},
                  {"metadata", meta},
                  {"spec", tmpl.value("spec", json::object())}};
    auto made = ctx_.handler.CreateObject(*info, ns, claim);
    if (!made.ok() && made.status().code() != Code::kAlreadyExists) {
      ctx_.RecordEvent(sts, "Warning", "FailedCreate",
                       "create Claim " + name + " for Pod " + set + "-" + std::to_string(ordinal) +
                           " in StatefulSet " + set +
                           " failed error: " + std::string(made.status().message()),
                       kComponent);
      return false;
    }
    ctx_.RecordEvent(sts, "Normal", "SuccessfulCreate",
                     "create Claim " + name + " Pod " + set + "-" + std::to_string(ordinal) +
                         " in StatefulSet " + set + " success",
                     kComponent);
  }
  return true;
}

void StatefulSetController::Sync(const std::string& ns, const std::string& name) {
  std::optional<json> found = ctx_.store.Get(kStatefulSets, ns, name);
  if (!found || IsTerminating(*found)) return;  // pods go with it; claims stay (Retain)
  const json& sts = *found;
  auto pod_info = ctx_.ResourceForKey(kPods);
  auto sts_info = ctx_.ResourceForKey(kStatefulSets);
  if (!pod_info || !sts_info) return;
  const std::string uid = MetaField(sts, "uid");
  const int64_t replicas = Int(sts, "/spec/replicas"_json_pointer, 1);
  const bool ordered = Str(sts, "/spec/podManagementPolicy"_json_pointer) != "Parallel";
  const json tmpl = sts.value("/spec/template"_json_pointer, json::object());
  const std::string current_status = Str(sts, "/status/currentRevision"_json_pointer);
  const std::string update_rev = SyncControllerRevisions(ctx_, sts, tmpl, {current_status});
  std::map<int64_t, json> pods;
  for (json& p : Controlled(ctx_.store, kPods, ns, uid)) {
    int64_t ord = OrdinalOf(name, MetaField(p, "name"));
    if (ord >= 0) pods[ord] = std::move(p);
  }
  auto del = [&](const json& pod) {
    const std::string pod_name = MetaField(pod, "name");
    auto r = ctx_.handler.DeleteWithOptions(*pod_info, ns, pod_name, DeleteOptions{});
    if (!r.ok() && r.status().code() != Code::kNotFound) return;
    ctx_.RecordEvent(sts, "Normal", "SuccessfulDelete",
                     "delete Pod " + pod_name + " in StatefulSet " + name + " successful",
                     kComponent);
  };
  bool blocked = false;
  for (int64_t i = 0; i < replicas && !blocked; ++i) {
    auto it = pods.find(i);
    if (it != pods.end() && !PodActive(it->second) && !IsTerminating(it->second)) {
      del(it->second);  // a failed or finished pod is replaced
      pods.erase(it);
      it = pods.end();
      if (ordered) blocked = true;
      continue;
    }
    if (it == pods.end()) {
      if (!EnsureClaims(sts, i)) {
        blocked = true;
        break;
      }
      const std::string pod_name = name + "-" + std::to_string(i);
      json pod = PodFromTemplate(sts, tmpl);
      json& meta = pod["metadata"];
      meta["name"] = pod_name;
      meta["labels"][kRevisionLabel] = update_rev;
      meta["labels"]["statefulset.kubernetes.io/pod-name"] = pod_name;
      meta["labels"]["apps.kubernetes.io/pod-index"] = std::to_string(i);
      pod["spec"]["hostname"] = pod_name;
      const std::string service = Str(sts, "/spec/serviceName"_json_pointer);
      if (!service.empty()) pod["spec"]["subdomain"] = service;
      json& volumes = pod["spec"]["volumes"];
      if (!volumes.is_array()) volumes = json::array();
      for (const json& ct : sts.value("/spec/volumeClaimTemplates"_json_pointer, json::array())) {
        const std::string vol = MetaField(ct, "name");
        volumes.erase(std::remove_if(volumes.begin(), volumes.end(),
                                     [&](const json& v) { return v.value("name", "") == vol; }),
                      volumes.end());
        volumes.push_back(
            {{"name", vol}, {"persistentVolumeClaim", {{"claimName", ClaimName(ct, name, i)}}}});
      }
      if (volumes.empty()) pod["spec"].erase("volumes");
      auto made = ctx_.handler.CreateObject(*pod_info, ns, pod);
      if (!made.ok()) {
        if (made.status().code() != Code::kAlreadyExists) {
          ctx_.RecordEvent(sts, "Warning", "FailedCreate",
                           "create Pod " + pod_name + " in StatefulSet " + name +
                               " failed error: " + std::string(made.status().message()),
                           kComponent);
          ctx_.queue.Add("sts/" + ns + "|" + name, std::chrono::seconds(5));
        }
        blocked = true;
        break;
      }
      ctx_.RecordEvent(sts, "Normal", "SuccessfulCreate",
                       "create Pod " + pod_name + " in StatefulSet " + name + " successful",
                       kComponent);
      pods[i] = std::move(*made);
      if (ordered) blocked = true;  // the next one once this one is Running and Ready
      continue;
    }
    if (ordered && !PodReady(it->second)) blocked = true;
  }
  // Scale down: the highest ordinal first (one at a time when ordered).
  const bool delete_claims_on_scale =
      Str(sts, "/spec/persistentVolumeClaimRetentionPolicy/whenScaled"_json_pointer) == "Delete";
  for (auto it = pods.rbegin(); it != pods.rend() && !blocked; ++it) {
    if (it->first < replicas) break;
    if (IsTerminating(it->second)) {
      if (ordered) blocked = true;
      continue;
    }
    del(it->second);
    if (delete_claims_on_scale) {
      auto info = ctx_.ResourceForKey(kClaims);
      for (const json& ct : sts.value("/spec/volumeClaimTemplates"_json_pointer, json::array())) {
        if (info)
          (void)ctx_.handler.DeleteWithOptions(*info, ns, ClaimName(ct, name, it->first), {});
      }
    }
    if (ordered) blocked = true;
  }
  for (auto it = pods.begin(); it != pods.end();) {
    it = it->first >= replicas ? pods.erase(it) : std::next(it);
  }
  // Rolling update: the highest ordinal not yet at the update revision is
  // replaced, once every pod is Ready, down to the partition.
  const bool rolling = Str(sts, "/spec/updateStrategy/type"_json_pointer) != "OnDelete";
  const int64_t partition =
      Int(sts, "/spec/updateStrategy/rollingUpdate/partition"_json_pointer, 0);
  if (rolling && !blocked && int64_t(pods.size()) == replicas) {
    bool all_ready =
        std::all_of(pods.begin(), pods.end(), [](const auto& kv) { return PodReady(kv.second); });
    for (auto it = pods.rbegin(); all_ready && it != pods.rend() && it->first >= partition; ++it) {
      if (Str(it->second, "/metadata/labels/controller-revision-hash"_json_pointer) != update_rev) {
        if (!IsTerminating(it->second)) del(it->second);
        break;
      }
    }
  }
  // Status.
  const std::string current_rev = current_status.empty() ? update_rev : current_status;
  const int64_t min_ready = Int(sts, "/spec/minReadySeconds"_json_pointer, 0);
  int64_t count = 0, ready = 0, available = 0, current = 0, updated = 0;
  for (const auto& [ord, p] : pods) {
    if (!PodActive(p) && !IsTerminating(p)) continue;
    ++count;
    if (PodReady(p)) ++ready;
    if (PodAvailable(p, min_ready, ctx_.clock.Now())) ++available;
    const std::string rev = Str(p, "/metadata/labels/controller-revision-hash"_json_pointer);
    if (rev == current_rev) ++current;
    if (rev == update_rev) ++updated;
  }
  std::string next_current = current_rev;
  if (updated == replicas && ready == replicas) {
    next_current = update_rev;
    current = updated;
  }
  json status = {{"observedGeneration", Int(sts, "/metadata/generation"_json_pointer, 1)},
                 {"replicas", count},
                 {"readyReplicas", ready},
                 {"availableReplicas", available},
                 {"currentReplicas", current},
                 {"updatedReplicas", updated},
                 {"currentRevision", next_current},
                 {"updateRevision", update_rev},
                 {"collisionCount", 0}};
  for (const char* k : {"readyReplicas", "currentReplicas", "updatedReplicas"}) {
    if (status[k] == 0) status.erase(k);
  }
  auto r = ctx_.handler.ModifyObject(*sts_info, ns, name, uid, [&](json* o) {
    (*o)["status"] = status;
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) {
    spdlog::warn("statefulset {}/{}: status: {}", ns, name, r.status().ToString());
  }
}

}  // namespace stash::api
