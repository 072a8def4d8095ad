// Helpers of the workload controllers, and the ReplicaSet controller.
#include "workloads.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "object_meta.h"
#include "stash/api/table.h"

namespace stash::api {
namespace workload {

namespace {

// Kubernetes' alphabet for generated names and hashes: no vowels (no words),
// no look-alikes (0/1/3).
constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";

// A pointer into `pod` (never into a copy).
const json* Condition(const json& pod, const std::string& type) {
  const auto ptr = "/status/conditions"_json_pointer;
  if (!pod.contains(ptr) || !pod.at(ptr).is_array()) return nullptr;
  for (const json& c : pod.at(ptr)) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

// Only containers the embedded node does not run keep the pod from Ready.
bool ReadyButForNotRun(const json& pod) {
  const json spec = pod.value("/spec/containers"_json_pointer, json::array());
  const json statuses = pod.value("/status/containerStatuses"_json_pointer, json::array());
  if (!statuses.is_array() || statuses.size() != spec.size() || statuses.empty()) return false;
  bool any_not_run = false;
  for (const json& st : statuses) {
    if (!st.is_object()) return false;
    if (st.value("ready", false)) continue;
    if (Str(st, "/state/waiting/reason"_json_pointer) != kNotRunByNodeReason) return false;
    any_not_run = true;
  }
  return any_not_run;
}

}  // namespace

std::string Str(const json& obj, const json::json_pointer& p) {
  if (!obj.contains(p)) return "";
  const json& v = obj.at(p);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t Int(const json& obj, const json::json_pointer& p, int64_t dflt) {
  if (!obj.contains(p)) return dflt;
  const json& v = obj.at(p);
  return v.is_number_integer() ? v.get<int64_t>() : dflt;
}

bool PodActive(const json& pod) {
  if (IsTerminating(pod)) return false;
  std::string phase = Str(pod, "/status/phase"_json_pointer);
  return phase != "Succeeded" && phase != "Failed";
}

bool PodReady(const json& pod) {
  if (!PodActive(pod)) return false;
  if (const json* c = Condition(pod, "Ready"); c && c->value("status", "") == "True") return true;
  return ReadyButForNotRun(pod);
}

bool PodAvailable(const json& pod, int64_t min_ready_seconds, SystemTime now) {
  if (!PodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  const json* c = Condition(pod, "Ready");
  std::string since = c ? c->value("lastTransitionTime", "") : "";
  if (since.empty()) since = Str(pod, "/status/startTime"_json_pointer);
  auto t = ParseTimestamp(since);
  return t.ok() && now - *t >= std::chrono::seconds(min_ready_seconds);
}

json Normalized(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items()) {
      json n = Normalized(x);
      if (n.is_null() || ((n.is_object() || n.is_array()) && n.empty())) continue;
      out[k] = std::move(n);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const json& x : v) out.push_back(Normalized(x));
    return out;
  }
  return v;
}

std::string TemplateHash(const json& pod_template_in, int64_t collision_count) {
  const json pod_template = Normalized(pod_template_in);
  uint32_t h = 2166136261u;
  auto add = [&](const std::string& s) {
    for (char c : s) {
      h ^= uint8_t(c);
      h *= 16777619u;
    }
  };
  add(pod_template.dump());
  if (collision_count > 0) add(std::to_string(collision_count));
  std::string out;
  for (char d : std::to_string(h)) out += kAlphabet[size_t(uint8_t(d)) % kAlphabet.size()];
  return out;
}

json ControllerRef(const json& owner) {
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", MetaField(owner, "name")},
          {"uid", MetaField(owner, "uid")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

std::string ControllerUid(const json& obj) {
  for (const OwnerRef& r : OwnerRefs(obj)) {
    if (r.controller) return r.uid;
  }
  return "";
}

std::vector<json> Controlled(Store& store, const std::string& resource, const std::string& ns,
                             const std::string& owner_uid) {
  std::vector<json> out;
  for (json& o : store.List(resource, ns, nullptr)) {
    if (ControllerUid(o) == owner_uid) out.push_back(std::move(o));
  }
  return out;
}

json PodFromTemplate(const json& owner, const json& pod_template) {
  json meta = pod_template.value("metadata", json::object());
  if (!meta.is_object()) meta = json::object();
  for (const char* drop : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    meta.erase(drop);
  }
  meta["namespace"] = MetaField(owner, "namespace");
  meta["ownerReferences"] = json::array({ControllerRef(owner)});
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", meta},
          {"spec", pod_template.value("spec", json::object())}};
}

int64_t ResolveIntOrPercent(const json& value, int64_t total, bool round_up, int64_t dflt) {
  if (value.is_number_integer()) return std::max<int64_t>(0, value.get<int64_t>());
  if (!value.is_string()) return dflt;
  std::string s = value.get<std::string>();
  if (s.empty() || s.back() != '%') {
    try {
      return std::max<int64_t>(0, std::stoll(s));
    } catch (...) {
      return dflt;
    }
  }
  int64_t pct = 0;
  try {
    pct = std::stoll(s.substr(0, s.size() - 1));
  } catch (...) {
    return dflt;
  }
  const int64_t scaled = pct * total;
  return std::max<int64_t>(0, round_up ? (scaled + 99) / 100 : scaled / 100);
}

}  // namespace workload

void GenerateJobSelector(json* obj) {
  json& spec = (*obj)["spec"];
  if (!spec.is_object()) spec = json::object();
  const json manual = spec.value("manualSelector", json());
  if (manual.is_boolean() && manual.get<bool>()) return;
  const json& meta = (*obj)["metadata"];
  const std::string name = meta.value("name", ""), uid = meta.value("uid", "");
  json& tmeta = spec["template"]["metadata"];
  if (!tmeta.is_object()) tmeta = json::object();
  json& labels = tmeta["labels"];
  if (!labels.is_object()) labels = json::object();
  for (const char* key : {"job-name", "batch.kubernetes.io/job-name"}) {
    if (!labels.contains(key)) labels[key] = name;
  }
  for (const char* key : {"controller-uid", "batch.kubernetes.io/controller-uid"}) {
    if (!labels.contains(key)) labels[key] = uid;
  }
  json& selector = spec["selector"];
  if (!selector.is_object()) selector = json::object();
  json& match = selector["matchLabels"];
  if (!match.is_object()) match = json::object();
  if (!match.contains("batch.kubernetes.io/controller-uid")) {
    match["batch.kubernetes.io/controller-uid"] = uid;
  }
}

void DefaultWorkloadObject(const std::string& resource_key, json* obj) {
  if (resource_key.rfind("apps/", 0) != 0) return;
  json& spec = (*obj)["spec"];
  if (!spec.is_object()) spec = json::object();
  auto dflt = [](json& o, const char* key, json value) {
    if (!o.contains(key) || o[key].is_null()) o[key] = std::move(value);
  };
  const std::string kind = resource_key.substr(5);
  if (kind != "daemonsets") dflt(spec, "replicas", 1);
  if (kind == "deployments") {
    dflt(spec, "strategy", json::object());
    dflt(spec["strategy"], "type", "RollingUpdate");
    if (spec["strategy"]["type"] == "RollingUpdate") {
      dflt(spec["strategy"], "rollingUpdate", json::object());
      dflt(spec["strategy"]["rollingUpdate"], "maxSurge", "25%");
      dflt(spec["strategy"]["rollingUpdate"], "maxUnavailable", "25%");
    }
    dflt(spec, "revisionHistoryLimit", 10);
    dflt(spec, "progressDeadlineSeconds", 600);
  } else if (kind == "statefulsets") {
    dflt(spec, "podManagementPolicy", "OrderedReady");
    dflt(spec, "updateStrategy", json::object());
    dflt(spec["updateStrategy"], "type", "RollingUpdate");
    if (spec["updateStrategy"]["type"] == "RollingUpdate") {
      dflt(spec["updateStrategy"], "rollingUpdate", json::object());
      dflt(spec["updateStrategy"]["rollingUpdate"], "partition", 0);
    }
    dflt(spec, "revisionHistoryLimit", 10);
    dflt(spec, "persistentVolumeClaimRetentionPolicy",
         {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}});
  } else if (kind == "daemonsets") {
    dflt(spec, "updateStrategy", json::object());
    dflt(spec["updateStrategy"], "type", "RollingUpdate");
    if (spec["updateStrategy"]["type"] == "RollingUpdate") {
      dflt(spec["updateStrategy"], "rollingUpdate", json::object());
      dflt(spec["updateStrategy"]["rollingUpdate"], "maxUnavailable", 1);
      dflt(spec["updateStrategy"]["rollingUpdate"], "maxSurge", 0);
    }
    dflt(spec, "revisionHistoryLimit", 10);
  }
}

using namespace workload;  // NOLINT: this file's own helpers

namespace {

const char* kPods = "/pods";
const char* kReplicaSets = "apps/replicasets";
const char* kComponent = "replicaset-controller";

// Which pods of a ReplicaSet go first when it shrinks (kube's ActivePods
// order): unscheduled, pending, not ready, then the newest.
int DeleteRank(const json& pod) {
  if (Str(pod, "/spec/nodeName"_json_pointer).empty()) return 0;
  if (Str(pod, "/status/phase"_json_pointer) != "Running") return 1;
  if (!PodReady(pod)) return 2;
  return 3;
}

}  // namespace

void ReplicaSetController::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  if (event.resource == kReplicaSets) {
    ctx_.queue.Add("rs/" + event.ns + "|" + MetaField(object, "name"));
  } else if (event.resource == kPods) {
    for (const OwnerRef& r : OwnerRefs(object)) {
      if (r.controller && r.kind == "ReplicaSet") ctx_.queue.Add("rs/" + event.ns + "|" + r.name);
    }
  }
}

void ReplicaSetController::Tick() {
  // Pods that turn available after minReadySeconds change no object.
  std::vector<std::string> waiting;
  waiting.swap(waiting_);
  for (const std::string& key : waiting) ctx_.queue.Add("rs/" + key);
}

void ReplicaSetController::Process(const std::string& item) {
  size_t bar = item.find('|');
  if (bar == std::string::npos) return;
  Sync(item.substr(0, bar), item.substr(bar + 1));
}

void ReplicaSetController::Sync(const std::string& ns, const std::string& name) {
  std::optional<json> rs = ctx_.store.Get(kReplicaSets, ns, name);
  if (!rs) return;  // its pods go with it (garbage collector)
  auto pod_info = ctx_.ResourceForKey(kPods);
  auto rs_info = ctx_.ResourceForKey(kReplicaSets);
  if (!pod_info || !rs_info) return;
  const std::string uid = MetaField(*rs, "uid");
  std::vector<json> pods;
  for (json& p : Controlled(ctx_.store, kPods, ns, uid)) {
    if (PodActive(p)) pods.push_back(std::move(p));
  }
  const int64_t want =
      IsTerminating(*rs) ? int64_t(pods.size()) : Int(*rs, "/spec/replicas"_json_pointer, 1);
  if (int64_t(pods.size()) < want) {
    json tmpl = rs->value("/spec/template"_json_pointer, json::object());
    for (int64_t i = int64_t(pods.size()); i < want; ++i) {
      json pod = PodFromTemplate(*rs, tmpl);
      pod["metadata"]["generateName"] = name + "-";
      auto made = ctx_.handler.CreateObject(*pod_info, ns, pod);
      if (!made.ok()) {
        ctx_.RecordEvent(*rs, "Warning", "FailedCreate",
                         "Error creating: " + std::string(made.status().message()), kComponent);
        ctx_.queue.Add("rs/" + ns + "|" + name, std::chrono::seconds(5));
        break;
      }
      ctx_.RecordEvent(*rs, "Normal", "SuccessfulCreate",
                       "Created pod: " + MetaField(*made, "name"), kComponent);
      pods.push_back(std::move(*made));
    }
  } else if (int64_t(pods.size()) > want) {
    std::stable_sort(pods.begin(), pods.end(), [](const json& a, const json& b) {
      int ra = DeleteRank(a), rb = DeleteRank(b);
      if (ra != rb) return ra < rb;
      return MetaField(a, "creationTimestamp") > MetaField(b, "creationTimestamp");
    });
    while (int64_t(pods.size()) > want) {
      const std::string pod = MetaField(pods.front(), "name");
      auto gone = ctx_.handler.DeleteWithOptions(*pod_info, ns, pod, DeleteOptions{});
      if (!gone.ok() && gone.status().code() != Code::kNotFound) {
        ctx_.RecordEvent(*rs, "Warning", "FailedDelete",
                         "Error deleting: " + std::string(gone.status().message()), kComponent);
        break;
      }
      ctx_.RecordEvent(*rs, "Normal", "SuccessfulDelete", "Deleted pod: " + pod, kComponent);
      pods.erase(pods.begin());
    }
  }
  const int64_t min_ready = Int(*rs, "/spec/minReadySeconds"_json_pointer, 0);
  const SystemTime now = ctx_.clock.Now();
  int64_t ready = 0, available = 0, labeled = 0;
  json tmpl_labels = rs->value("/spec/template/metadata/labels"_json_pointer, json::object());
  for (const json& p : pods) {
    if (PodReady(p)) ++ready;
    if (PodAvailable(p, min_ready, now)) ++available;
    if (tmpl_labels.is_object()) {
      bool all = true;
      json labels = p.value("/metadata/labels"_json_pointer, json::object());
      for (const auto& [k, v] : tmpl_labels.items()) all = all && labels.value(k, json()) == v;
      if (all) ++labeled;
    }
  }
  if (available < ready) waiting_.push_back(ns + "|" + name);
  json status = {{"replicas", int64_t(pods.size())},
                 {"fullyLabeledReplicas", labeled},
                 {"readyReplicas", ready},
                 {"availableReplicas", available},
                 {"observedGeneration", Int(*rs, "/metadata/generation"_json_pointer, 1)}};
  auto r = ctx_.handler.ModifyObject(*rs_info, ns, name, uid, [&](json* o) {
    json next = status;
    // kube leaves zero counts out.
    for (const char* k : {"fullyLabeledReplicas", "readyReplicas", "availableReplicas"}) {
      if (next[k] == 0) next.erase(k);
    }
    (*o)["status"] = next;
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) {
    spdlog::warn("replicaset {}/{}: status: {}", ns, name, r.status().ToString());
  }
}

}  // namespace stash::api
