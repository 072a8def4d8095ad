#include "stash/agent/pods.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

namespace {

using kube::json;
namespace res = kube::res;

// Kubernetes' alphabet for generated names: no vowels (no words), no
// look-alikes (0/1/3).
constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";

std::string NsOf(const json& o) { return o.value("/metadata/namespace"_json_pointer, ""); }
std::string NameOf(const json& o) { return o.value("/metadata/name"_json_pointer, ""); }
std::string UidOf(const json& o) { return o.value("/metadata/uid"_json_pointer, ""); }

// The uid of the pod's controlling owner, and its kind.
std::pair<std::string, std::string> ControllerOf(const json& pod) {
  for (const json& r : pod.value("/metadata/ownerReferences"_json_pointer, json::array())) {
    if (r.value("controller", false)) return {r.value("uid", ""), r.value("kind", "")};
  }
  return {"", ""};
}

// Owner kinds whose pods this node keeps (and removes when the owner goes).
// The node makes only Jobs' pods: the cluster's controllers (stash server's
// src/api/workloads.h, or kube-controller-manager) make the others.
bool IsWorkloadKind(const std::string& kind) { return kind == "Job"; }

bool JobFinished(const json& job) {
  for (const json& c : job.value("/status/conditions"_json_pointer, json::array())) {
    if ((c.value("type", "") == "Complete" || c.value("type", "") == "Failed") &&
        c.value("status", "") == "True") {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string PodTemplateHash(const json& pod_template) {
  uint32_t h = 2166136261u;
  for (char c : pod_template.dump()) {
    h ^= uint8_t(c);
    h *= 16777619u;
  }
  std::string out;
  for (char d : std::to_string(h)) out += kAlphabet[size_t(d) % kAlphabet.size()];
  return out;
}

namespace {

// The node's address: its Node's InternalIP (node_heartbeat.cc), where the
// API server listens by default.
constexpr char kNodeIP[] = "127.0.0.1";

// [{"ip": <the node's address>}], the shape of podIPs and hostIPs.
json NodeIPs() {
  json ips = json::array();
  ips.push_back({{"ip", kNodeIP}});
  return ips;
}

json TerminatedJson(const Termination& t) {
  json j = {{"exitCode", t.exit_code},
            {"reason", t.reason},
            {"startedAt", kube::FormatTime(t.started)},
            {"finishedAt", kube::FormatTime(t.finished)}};
  if (!t.message.empty()) j["message"] = t.message;
  return j;
}

bool Runs(const RunScope& scope, const json& c) {
  return scope.other_images || c.value("image", "") == scope.stash_image;
}

// One container's status: the node's state for the containers it runs, "not
// run" for the others (`blocked`: its pod is still initialising).
json ContainerStatusJson(const json& c, const ContainerState* st, bool blocked,
                         const RunScope& scope) {
  std::string name = c.value("name", "");
  json out = {{"name", name},   {"image", c.value("image", "")},
              {"imageID", ""},  {"restartCount", 0},
              {"ready", false}, {"started", false}};
  if (!Runs(scope, c)) {
    std::string why = scope.not_run_message.empty()
                          ? "the embedded node runs only stash's own containers"
                          : "the embedded node cannot run containers: " + scope.not_run_message;
    out["state"] = {{"waiting",
                     {{"reason", kNotRunReason},
                      {"message", why + "; image " + c.value("image", "") + " is not started"}}}};
    return out;
  }
  if (blocked || !st) {
    out["state"] = {{"waiting", {{"reason", blocked ? "PodInitializing" : "ContainerCreating"}}}};
    return out;
  }
  out["restartCount"] = st->restarts;
  if (!st->image_id.empty()) out["imageID"] = st->image_id;
  if (!st->container_id.empty()) out["containerID"] = st->container_id;
  if (st->last_terminated)
    out["lastState"] = {{"terminated", TerminatedJson(*st->last_terminated)}};
  if (st->running) {
    out["ready"] = !st->not_ready;
    out["started"] = true;
    out["state"] = {{"running", {{"startedAt", kube::FormatTime(st->started)}}}};
  } else if (st->terminated) {
    out["state"] = {{"terminated", TerminatedJson(*st->terminated)}};
  } else {
    json waiting = {
        {"reason", st->waiting_reason.empty() ? "ContainerCreating" : st->waiting_reason}};
    if (!st->waiting_message.empty()) waiting["message"] = st->waiting_message;
    out["state"] = {{"waiting", waiting}};
  }
  return out;
}

const ContainerState* Find(const std::map<std::string, ContainerState>& m, const json& c) {
  auto it = m.find(c.value("name", ""));
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

json PodStatusFor(const json& pod, const std::map<std::string, ContainerState>& states,
                  const std::map<std::string, ContainerState>& init_states, const RunScope& scope) {
  const std::string created = pod.value("/metadata/creationTimestamp"_json_pointer, "");
  const std::string restart_policy = pod.value("/spec/restartPolicy"_json_pointer, "Always");
  // The init containers it runs, in order; the pod is initialised once each exited 0.
  bool initialized = true;
  json init_statuses = json::array();
  for (const json& c : pod.value("/spec/initContainers"_json_pointer, json::array())) {
    const ContainerState* st = Find(init_states, c);
    init_statuses.push_back(ContainerStatusJson(c, st, !initialized, scope));
    if (!Runs(scope, c)) continue;
    if (!st || !st->terminated || st->terminated->exit_code != 0) initialized = false;
  }
  json statuses = json::array();
  bool all_ready = initialized;
  bool all_done = initialized, any_failed = false, ever_ran = false, not_run = false;
  SystemTime ready_since{};
  for (const json& c : pod.value("/spec/containers"_json_pointer, json::array())) {
    const ContainerState* st = Find(states, c);
    statuses.push_back(ContainerStatusJson(c, st, !initialized, scope));
    if (!initialized) continue;
    const bool ours = Runs(scope, c) && st;
    if (!Runs(scope, c)) not_run = true;
    if (!ours || !st->running || st->not_ready) all_ready = false;
    if (ours && st->running) ready_since = std::max(ready_since, st->started);
    // Running, as Kubernetes says it: bound, initialised, a container has run
    // (one restarting in CrashLoopBackOff keeps the pod Running).
    if (ours && (st->running || st->terminated || st->last_terminated)) ever_ran = true;
    if (!ours || !st->terminated) all_done = false;
    if (ours && st->terminated && st->terminated->exit_code != 0) any_failed = true;
  }
  // A pod with a container the node does not run is not called Running.
  std::string phase = all_ready || (ever_ran && !not_run) ? "Running" : "Pending";
  if (restart_policy != "Always" && initialized) {
    if (all_done) phase = any_failed ? "Failed" : "Succeeded";
    // With Never, a failed container is not restarted: the pod has failed.
    if (any_failed && restart_policy == "Never") phase = "Failed";
  }
  std::string ready = all_ready ? "True" : "False";
  std::string ready_time = all_ready ? kube::FormatTime(ready_since) : created;
  auto cond = [&](const char* type, const std::string& status, const std::string& at,
                  const char* reason) {
    json c = {{"type", type}, {"status", status}, {"lastTransitionTime", at}};
    if (status == "False") c["reason"] = reason;
    return c;
  };
  json out = {
      {"phase", phase},
      {"hostIP", kNodeIP},
      {"hostIPs", NodeIPs()},
      {"startTime", created},
      {"conditions", json::array({cond("PodScheduled", "True", created, ""),
                                  cond("Initialized", initialized ? "True" : "False", created,
                                       "ContainersNotInitialized"),
                                  cond("ContainersReady", ready, ready_time, "ContainersNotReady"),
                                  cond("Ready", ready, ready_time, "ContainersNotReady")})},
      {"containerStatuses", statuses},
      {"qosClass", "BestEffort"}};
  if (!init_statuses.empty()) out["initContainerStatuses"] = init_statuses;
  // The node runs pods in its own network namespace (podman's --network
  // host, or local processes), so a pod's address is the node's, as kubelet
  // reports it for hostNetwork pods; Services' Endpoints and `kubectl get pod
  // -o wide` show it. A pod none of whose containers the node runs has no
  // sandbox and no address.
  bool runs_any = false;
  for (const char* list : {"/spec/initContainers", "/spec/containers"}) {
    for (const json& c : pod.value(json::json_pointer(list), json::array())) {
      runs_any |= Runs(scope, c);
    }
  }
  if (runs_any) {
    out["podIP"] = kNodeIP;
    out["podIPs"] = NodeIPs();
  }
  return out;
}

PodKeeper::PodKeeper(const kube::Client& client, Random& random, std::string node_name)
    : client_(client), random_(random), node_name_(std::move(node_name)) {}

std::string PodKeeper::RandomSuffix() {
  std::string s;
  for (int i = 0; i < 5; ++i) s += kAlphabet[random_.Uniform(kAlphabet.size())];
  return s;
}

json PodKeeper::NewPod(const json& w, const std::string& name) const {
  const std::string kind = w.value("kind", "");
  json tmpl = w.value("/spec/template"_json_pointer, json::object());
  json labels = tmpl.value("/metadata/labels"_json_pointer, json::object());
  labels["job-name"] = NameOf(w);
  labels["batch.kubernetes.io/job-name"] = NameOf(w);
  labels["controller-uid"] = UidOf(w);
  labels["batch.kubernetes.io/controller-uid"] = UidOf(w);
  json meta = {{"name", name},
               {"namespace", NsOf(w)},
               {"labels", labels},
               {"ownerReferences", json::array({{{"apiVersion", w.value("apiVersion", "apps/v1")},
                                                 {"kind", kind},
                                                 {"name", NameOf(w)},
                                                 {"uid", UidOf(w)},
                                                 {"controller", true},
                                                 {"blockOwnerDeletion", true}}})}};
  json annotations = tmpl.value("/metadata/annotations"_json_pointer, json());
  if (annotations.is_object() && !annotations.empty()) meta["annotations"] = annotations;
  json spec = tmpl.value("spec", json::object());
  spec["nodeName"] = node_name_;
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", spec}};
}

std::vector<json> PodKeeper::Sync(const std::vector<json>& workloads,
                                  const std::vector<json>& listed) {
  // What exists: the informer's view corrected by our own recent writes.
  std::map<std::string, json> pods;  // ns/name
  std::set<std::string> listed_keys;
  for (const json& p : listed) {
    std::string key = NsOf(p) + "/" + NameOf(p);
    listed_keys.insert(key);
    if (p.value("/spec/nodeName"_json_pointer, "") != node_name_) continue;
    if (deleted_.count(key)) continue;
    pods[key] = p;
  }
  for (auto it = deleted_.begin(); it != deleted_.end();) {
    it = listed_keys.count(it->first) ? std::next(it) : deleted_.erase(it);
  }
  for (auto it = created_.begin(); it != created_.end();) {
    if (listed_keys.count(it->first)) {
      it = created_.erase(it);
    } else {
      pods.emplace(it->first, it->second);
      ++it;
    }
  }

  auto remove = [&](const json& p) {
    std::string key = NsOf(p) + "/" + NameOf(p);
    Status s = client_.Delete(res::kPods, NsOf(p), NameOf(p));
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("node: deleting pod {}: {}", key, s.ToString());
      return;
    }
    spdlog::info("node: deleted pod {}", key);
    deleted_[key] = true;
    created_.erase(key);
    pods.erase(key);
  };
  auto create = [&](const json& pod) {
    std::string key = NsOf(pod) + "/" + NameOf(pod);
    auto made = client_.Create(res::kPods, NsOf(pod), pod);
    if (!made.ok()) {
      if (made.status().code() != Code::kAlreadyExists) {
        spdlog::warn("node: creating pod {}: {}", key, made.status().ToString());
      }
      return;
    }
    json obj = *made;
    obj["apiVersion"] = "v1";
    obj["kind"] = "Pod";
    spdlog::info("node: created pod {}", key);
    created_[key] = obj;
    pods[key] = obj;
  };

  std::map<std::string, std::vector<json>> by_owner;  // controller uid → pods
  for (const auto& [key, p] : pods) by_owner[ControllerOf(p).first].push_back(p);
  std::set<std::string> owners;
  for (const json& w : workloads) {
    const std::string kind = w.value("kind", ""), uid = UidOf(w);
    owners.insert(uid);
    std::vector<json> owned = by_owner[uid];
    std::sort(owned.begin(), owned.end(),
              [](const json& a, const json& b) { return NameOf(a) < NameOf(b); });
    if (kind != "Job") continue;
    {
      // One pod at a time until the Job has finished; a pod that failed for
      // good (restartPolicy Never) is kept and replaced up to backoffLimit.
      std::vector<json> active;
      int64_t failed = 0;
      for (const json& p : owned) {
        const std::string phase = p.value("/status/phase"_json_pointer, "");
        if (phase == "Failed") ++failed;
        if (phase != "Succeeded" && phase != "Failed") active.push_back(p);
      }
      const bool done = JobFinished(w) || w.contains("/metadata/deletionTimestamp"_json_pointer);
      if (done) {
        for (const json& p : active) remove(p);
      } else if (active.empty() &&
                 std::none_of(owned.begin(), owned.end(),
                              [](const json& p) {
                                return p.value("/status/phase"_json_pointer, "") == "Succeeded";
                              }) &&
                 failed <= w.value("/spec/backoffLimit"_json_pointer, int64_t{6})) {
        create(NewPod(w, NameOf(w) + "-" + RandomSuffix()));
      }
    }
  }
  // Pods of workloads that are gone (no garbage collector here).
  for (const auto& [uid, list] : by_owner) {
    if (owners.count(uid)) continue;
    for (const json& p : list) {
      if (IsWorkloadKind(ControllerOf(p).second)) remove(p);
    }
  }
  std::vector<json> out;
  out.reserve(pods.size());
  for (auto& [key, p] : pods) out.push_back(std::move(p));
  return out;
}

}  // namespace stash::agent
