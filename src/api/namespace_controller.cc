#include "namespace_controller.h"

#include <spdlog/spdlog.h>

#include <map>

#include "object_meta.h"
#include "stash/api/table.h"

namespace stash::api {

namespace {

const char* kNamespaces = "/namespaces";

json Condition(const std::string& type, bool status, const std::string& reason,
               const std::string& message) {
  return {{"type", type},
          {"status", status ? "True" : "False"},
          {"reason", reason},
          {"message", message}};
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// Sets status.conditions to `wanted`, keeping lastTransitionTime of the
// conditions whose status did not change.
void SetConditions(json* ns, const std::vector<json>& wanted, const std::string& now) {
  json old = ns->value("/status/conditions"_json_pointer, json::array());
  json out = json::array();
  for (json c : wanted) {
    c["lastTransitionTime"] = now;
    for (const json& o : old) {
      if (o.value("type", "") == c["type"] && o.value("status", "") == c["status"]) {
        c["lastTransitionTime"] = o.value("lastTransitionTime", now);
      }
    }
    out.push_back(std::move(c));
  }
  (*ns)["status"]["conditions"] = std::move(out);
}

}  // namespace

void NamespaceController::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  if (event.resource == kNamespaces) {
    const std::string name = MetaField(object, "name");
    if (event.type != EventType::kDeleted && IsTerminating(object)) {
      if (terminating_.insert(name).second) ctx_.queue.Add("ns/" + name);
    } else {
      terminating_.erase(name);
    }
    return;
  }
  // Progress inside a terminating namespace: look again (the queue merges
  // a burst of changes into one pass).
  if (!event.ns.empty() && terminating_.count(event.ns)) {
    ctx_.queue.Add("ns/" + event.ns, std::chrono::milliseconds(50));
  }
}

void NamespaceController::Tick() {
  // Content held by finalizers of a controller that is not running yet gets
  // looked at again now and then.
  for (const std::string& name : terminating_) ctx_.queue.Add("ns/" + name);
}

void NamespaceController::Process(const std::string& name) {
  auto ns = ctx_.store.Get(kNamespaces, "", name);
  if (!ns || !IsTerminating(*ns)) {
    terminating_.erase(name);
    return;
  }
  auto ns_info = ctx_.ResourceForKey(kNamespaces);
  if (!ns_info) return;
  std::map<std::string, int> remaining;   // "<resource>.<group>" -> objects
  std::map<std::string, int> finalizers;  // finalizer -> objects
  int failures = 0;
  std::string failure;
  DeleteOptions background;
  background.propagation = Propagation::kBackground;
  // A copy: anything below that makes the context look a kind up again may
  // clear its list (see ControllerContext::ForgetResources).
  const std::vector<ResourceInfo> resources = ctx_.Resources();
  for (const ResourceInfo& r : resources) {
    if (!r.namespaced) continue;
    for (const json& obj : ctx_.store.List(r.key(), name, nullptr)) {
      json left = obj;
      if (!IsTerminating(obj)) {
        auto d = ctx_.handler.DeleteWithOptions(r, name, MetaField(obj, "name"), background);
        if (d.ok() && d->kind == Mutation::kDelete) continue;
        if (!d.ok()) {
          if (d.status().code() == Code::kNotFound) continue;
          ++failures;
          failure = d.status().message();
        } else {
          left = d->object;
        }
      }
      ++remaining[r.resource + "." + r.group];
      for (const std::string& f : Finalizers(left)) ++finalizers[f];
    }
  }
  std::vector<std::string> remaining_text, finalizer_text;
  for (const auto& [res, n] : remaining) {
    remaining_text.push_back(res + " has " + std::to_string(n) + " resource instances");
  }
  for (const auto& [f, n] : finalizers) {
    finalizer_text.push_back(f + " in " + std::to_string(n) + " resource instances");
  }
  std::vector<json> conditions = {
      Condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                "All resources successfully discovered"),
      Condition("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
                "All legacy kube types successfully parsed"),
      failures ? Condition("NamespaceDeletionContentFailure", true, "ContentDeletionFailed",
                           "Failed to delete all resource types, " + std::to_string(failures) +
                               " remaining: " + failure)
               : Condition("NamespaceDeletionContentFailure", false, "ContentDeleted",
                           "All content successfully deleted, may be waiting on finalization"),
      remaining.empty() ? Condition("NamespaceContentRemaining", false, "ContentRemoved",
                                    "All content successfully removed")
                        : Condition("NamespaceContentRemaining", true, "SomeResourcesRemain",
                                    "Some resources are remaining: " + Join(remaining_text)),
      finalizers.empty()
          ? Condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                      "All content-preserving finalizers finished")
          : Condition(
                "NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: " + Join(finalizer_text))};
  const std::string now = FormatTimestamp(ctx_.clock.Now());
  const bool empty = remaining.empty() && failures == 0;
  auto r = ctx_.handler.ModifyObject(*ns_info, "", name, MetaField(*ns, "uid"), [&](json* o) {
    SetConditions(o, conditions, now);
    if (empty) {
      // Our part is done: drop the `kubernetes` finalizer; with no other
      // finalizer left the namespace goes.
      json kept = json::array();
      for (const json& f : o->value("/spec/finalizers"_json_pointer, json::array())) {
        if (f != kNamespaceFinalizer) kept.push_back(f);
      }
      (*o)["spec"]["finalizers"] = kept;
      if (kept.empty()) (*o)["spec"].erase("finalizers");
    }
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound) {
    spdlog::warn("namespace controller: {}: {}", name, r.status().ToString());
  }
  if (r.ok() && r->kind == Mutation::kDelete) {
    spdlog::info("namespace controller: namespace {} deleted", name);
    terminating_.erase(name);
  } else if (failures) {
    ctx_.queue.Add("ns/" + name, std::chrono::seconds(1));
  }
}

void NodeLifecycleController::Tick() {
  if (++ticks_ % 5 != 0) return;
  auto info = ctx_.ResourceForKey("/nodes");
  if (!info) return;
  const SystemTime now = ctx_.clock.Now();
  // node-monitor-grace-period: 40 s without a heartbeat.
  const Duration grace = std::chrono::seconds(40);
  for (const json& node : ctx_.store.List("/nodes", "", nullptr)) {
    json conditions = node.value("/status/conditions"_json_pointer, json::array());
    bool stale = false;
    for (const json& c : conditions) {
      if (c.value("type", "") != "Ready" || c.value("status", "") == "Unknown") continue;
      auto beat = ParseTimestamp(c.value("lastHeartbeatTime", ""));
      stale = beat.ok() && now - *beat > grace;
    }
    if (!stale) continue;
    const std::string stamp = FormatTimestamp(now);
    auto r = ctx_.handler.ModifyObject(*info, "", MetaField(node, "name"), MetaField(node, "uid"),
                                       [&](json* o) {
                                         for (json& c : (*o)["status"]["conditions"]) {
                                           c["status"] = "Unknown";
                                           c["reason"] = "NodeStatusUnknown";
                                           c["message"] = "Kubelet stopped posting node status.";
                                           c["lastTransitionTime"] = stamp;
                                         }
                                         return Status::Ok();
                                       });
    if (!r.ok()) spdlog::warn("node lifecycle: {}", r.status().ToString());
  }
}

}  // namespace stash::api
