// DaemonSetController and PodScheduler (workloads.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "object_meta.h"
#include "workloads.h"

namespace stash::api {

using namespace workload;  // NOLINT: the workload helpers

namespace {

const char* kDaemonSets = "apps/daemonsets";
const char* kPods = "/pods";
const char* kNodes = "/nodes";
const char* kComponent = "daemonset-controller";

bool NodeReady(const json& node) {
  for (const json& c : node.value("/status/conditions"_json_pointer, json::array())) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// The pod's nodeSelector against the node's labels.
bool Fits(const json& pod_spec, const json& node) {
  const json sel = pod_spec.value("nodeSelector", json::object());
  if (!sel.is_object()) return true;
  const json labels = node.value("/metadata/labels"_json_pointer, json::object());
  for (const auto& [k, v] : sel.items()) {
    if (!labels.is_object() || labels.value(k, json()) != v) return false;
  }
  return true;
}

}  // namespace

void DaemonSetController::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  if (event.resource == kDaemonSets) {
    ctx_.queue.Add("ds/" + event.ns + "|" + MetaField(object, "name"));
  } else if (event.resource == kPods) {
    for (const OwnerRef& r : OwnerRefs(object)) {
      if (r.controller && r.kind == "DaemonSet") ctx_.queue.Add("ds/" + event.ns + "|" + r.name);
    }
  } else if (event.resource == kNodes && event.type != EventType::kModified) {
    for (const json& ds : ctx_.store.List(kDaemonSets, "", nullptr)) {
      ctx_.queue.Add("ds/" + MetaField(ds, "namespace") + "|" + MetaField(ds, "name"));
    }
  }
}

void DaemonSetController::Process(const std::string& item) {
  size_t bar = item.find('|');
  if (bar == std::string::npos) return;
  Sync(item.substr(0, bar), item.substr(bar + 1));
}

void DaemonSetController::Sync(const std::string& ns, const std::string& name) {
  std::optional<json> found = ctx_.store.Get(kDaemonSets, ns, name);
  if (!found || IsTerminating(*found)) return;
  const json& ds = *found;
  auto pod_info = ctx_.ResourceForKey(kPods);
  auto ds_info = ctx_.ResourceForKey(kDaemonSets);
  if (!pod_info || !ds_info) return;
  const std::string uid = MetaField(ds, "uid");
  const json tmpl = ds.value("/spec/template"_json_pointer, json::object());
  const std::string revision = SyncControllerRevisions(ctx_, ds, tmpl, {});
  const std::string hash = revision.substr(name.size() + 1);
  std::vector<std::string> eligible;
  for (const json& node : ctx_.store.List(kNodes, "", nullptr)) {
    if (Fits(tmpl.value("spec", json::object()), node)) eligible.push_back(MetaField(node, "name"));
  }
  std::map<std::string, std::vector<json>> by_node;
  for (json& p : Controlled(ctx_.store, kPods, ns, uid)) {
    if (PodActive(p)) by_node[Str(p, "/spec/nodeName"_json_pointer)].push_back(std::move(p));
  }
  auto del = [&](const json& pod) {
    auto r = ctx_.handler.DeleteWithOptions(*pod_info, ns, MetaField(pod, "name"), {});
    if (r.ok() || r.status().code() == Code::kNotFound) {
      ctx_.RecordEvent(ds, "Normal", "SuccessfulDelete", "Deleted pod: " + MetaField(pod, "name"),
                       kComponent);
    }
  };
  int64_t misscheduled = 0;
  for (auto& [node, list] : by_node) {
    const bool ok = std::find(eligible.begin(), eligible.end(), node) != eligible.end();
    if (!ok) misscheduled += int64_t(list.size());
    for (size_t i = ok ? 1 : 0; i < list.size(); ++i) del(list[i]);
    if (!ok) list.clear();
    if (list.size() > 1) list.resize(1);
  }
  for (const std::string& node : eligible) {
    if (!by_node[node].empty()) continue;
    json pod = PodFromTemplate(ds, tmpl);
    pod["metadata"]["generateName"] = name + "-";
    pod["metadata"]["labels"]["controller-revision-hash"] = hash;
    pod["metadata"]["labels"]["pod-template-generation"] =
        std::to_string(Int(ds, "/metadata/generation"_json_pointer, 1));
    pod["spec"]["nodeName"] = node;
    auto made = ctx_.handler.CreateObject(*pod_info, ns, pod);
    if (!made.ok()) {
      ctx_.RecordEvent(ds, "Warning", "FailedCreate",
                       "Error creating: " + std::string(made.status().message()), kComponent);
      continue;
    }
    ctx_.RecordEvent(ds, "Normal", "SuccessfulCreate", "Created pod: " + MetaField(*made, "name"),
                     kComponent);
    by_node[node].push_back(std::move(*made));
  }
  // Rolling update: old pods go while no more than maxUnavailable are down.
  const int64_t min_ready = Int(ds, "/spec/minReadySeconds"_json_pointer, 0);
  const SystemTime now = ctx_.clock.Now();
  auto is_old = [&](const json& p) {
    return Str(p, "/metadata/labels/controller-revision-hash"_json_pointer) != hash;
  };
  if (Str(ds, "/spec/updateStrategy/type"_json_pointer) != "OnDelete") {
    int64_t budget = ResolveIntOrPercent(
        ds.value("/spec/updateStrategy/rollingUpdate/maxUnavailable"_json_pointer, json(1)),
        int64_t(eligible.size()), true, 1);
    for (const std::string& node : eligible) {
      const auto& list = by_node[node];
      if (list.empty() || !PodAvailable(list[0], min_ready, now)) --budget;
    }
    for (const std::string& node : eligible) {
      auto& list = by_node[node];
      if (budget <= 0) break;
      if (list.empty() || !is_old(list[0])) continue;
      del(list[0]);
      list.clear();
      --budget;
    }
  }
  int64_t current = 0, ready = 0, available = 0, updated = 0;
  for (const std::string& node : eligible) {
    const auto& list = by_node[node];
    if (list.empty()) continue;
    ++current;
    if (PodReady(list[0])) ++ready;
    if (PodAvailable(list[0], min_ready, now)) ++available;
    if (!is_old(list[0])) ++updated;
  }
  const int64_t desired = int64_t(eligible.size());
  json status = {{"currentNumberScheduled", current},
                 {"numberMisscheduled", misscheduled},
                 {"desiredNumberScheduled", desired},
                 {"numberReady", ready},
                 {"observedGeneration", Int(ds, "/metadata/generation"_json_pointer, 1)},
                 {"updatedNumberScheduled", updated},
                 {"numberAvailable", available},
                 {"numberUnavailable", std::max<int64_t>(0, desired - available)}};
  for (const char* k : {"updatedNumberScheduled", "numberAvailable", "numberUnavailable"}) {
    if (status[k] == 0) status.erase(k);
  }
  auto r = ctx_.handler.ModifyObject(*ds_info, ns, name, uid, [&](json* o) {
    (*o)["status"] = status;
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) {
    spdlog::warn("daemonset {}/{}: status: {}", ns, name, r.status().ToString());
  }
}

void PodScheduler::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  if (event.resource == kPods) {
    if (event.type == EventType::kDeleted) {
      unschedulable_.erase(event.ns + "|" + MetaField(object, "name"));
      return;
    }
    if (Str(object, "/spec/nodeName"_json_pointer).empty() && !IsTerminating(object)) {
      ctx_.queue.Add("sched/" + event.ns + "|" + MetaField(object, "name"));
    }
  } else if (event.resource == kNodes && NodeReady(object)) {
    for (const std::string& key : unschedulable_) ctx_.queue.Add("sched/" + key);
  }
}

void PodScheduler::Process(const std::string& item) {
  size_t bar = item.find('|');
  if (bar == std::string::npos) return;
  Schedule(item.substr(0, bar), item.substr(bar + 1));
}

void PodScheduler::Schedule(const std::string& ns, const std::string& name) {
  std::optional<json> pod = ctx_.store.Get(kPods, ns, name);
  if (!pod || IsTerminating(*pod) || !Str(*pod, "/spec/nodeName"_json_pointer).empty()) return;
  auto info = ctx_.ResourceForKey(kPods);
  if (!info) return;
  const json spec = pod->value("spec", json::object());
  std::vector<json> nodes = ctx_.store.List(kNodes, "", nullptr);
  std::string chosen;
  for (const json& node : nodes) {
    if (!NodeReady(node) || node.value("/spec/unschedulable"_json_pointer, false)) continue;
    if (!Fits(spec, node)) continue;
    if (chosen.empty() || MetaField(node, "name") < chosen) chosen = MetaField(node, "name");
  }
  const std::string now = FormatTimestamp(ctx_.clock.Now());
  const std::string key = ns + "|" + name;
  if (chosen.empty()) {
    if (!unschedulable_.insert(key).second) return;
    const std::string message =
        nodes.empty() ? "no nodes available to schedule pods"
                      : "0/" + std::to_string(nodes.size()) +
                            " nodes are available: " + std::to_string(nodes.size()) +
                            " node(s) were not ready or didn't match Pod's node affinity/selector.";
    auto r = ctx_.handler.ModifyObject(*info, ns, name, MetaField(*pod, "uid"), [&](json* o) {
      (*o)["status"]["phase"] = "Pending";
      (*o)["status"]["conditions"] = json::array({{{"type", "PodScheduled"},
                                                   {"status", "False"},
                                                   {"reason", "Unschedulable"},
                                                   {"message", message},
                                                   {"lastTransitionTime", now}}});
      return Status::Ok();
    });
    (void)r;
    ctx_.RecordEvent(*pod, "Warning", "FailedScheduling", message, "default-scheduler");
    return;
  }
  unschedulable_.erase(key);
  auto r = ctx_.handler.ModifyObject(*info, ns, name, MetaField(*pod, "uid"), [&](json* o) {
    (*o)["spec"]["nodeName"] = chosen;
    (*o)["status"]["phase"] = "Pending";
    (*o)["status"]["conditions"] =
        json::array({{{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", now}}});
    return Status::Ok();
  });
  if (!r.ok()) {
    if (r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) {
      spdlog::warn("scheduler: binding pod {}/{}: {}", ns, name, r.status().ToString());
    }
    return;
  }
  ctx_.RecordEvent(r->object, "Normal", "Scheduled",
                   "Successfully assigned " + ns + "/" + name + " to " + chosen,
                   "default-scheduler");
}

}  // namespace stash::api
