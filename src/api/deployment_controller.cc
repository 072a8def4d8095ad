// DeploymentController (workloads.h): ReplicaSets per pod template, rolling
// updates and the status `kubectl rollout status` reads, after kube's
// pkg/controller/deployment.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "object_meta.h"
#include "stash/api/table.h"
#include "workloads.h"

namespace stash::api {

using namespace workload;  // NOLINT: the workload helpers

namespace {

const char* kDeployments = "apps/deployments";
const char* kReplicaSets = "apps/replicasets";
const char* kComponent = "deployment-controller";
const char* kRevision = "deployment.kubernetes.io/revision";
const char* kDesired = "deployment.kubernetes.io/desired-replicas";
const char* kMaxReplicas = "deployment.kubernetes.io/max-replicas";
const char* kHashLabel = "pod-template-hash";

int64_t Revision(const json& rs) {
  const std::string r =
      Str(rs, json::json_pointer("/metadata/annotations/deployment.kubernetes.io~1revision"));
  try {
    return r.empty() ? 0 : std::stoll(r);
  } catch (...) {
    return 0;
  }
}

int64_t Spec(const json& rs) { return Int(rs, "/spec/replicas"_json_pointer, 1); }
int64_t Stat(const json& rs, const char* field) {
  return Int(rs, json::json_pointer(std::string("/status/") + field), 0);
}

// The template without the hash label: what a ReplicaSet was made from.
json WithoutHash(json tmpl) {
  if (tmpl.contains("/metadata/labels"_json_pointer)) {
    tmpl["metadata"]["labels"].erase(kHashLabel);
    if (tmpl["metadata"]["labels"].empty()) tmpl["metadata"].erase("labels");
  }
  return tmpl;
}

// Kube's condition update: times move only when something changed.
void SetCondition(json* conds, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, const std::string& now) {
  for (json& c : *conds) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") == status && c.value("reason", "") == reason &&
        c.value("message", "") == message) {
      return;
    }
    if (c.value("status", "") != status) c["lastTransitionTime"] = now;
    c["status"] = status;
    c["reason"] = reason;
    c["message"] = message;
    c["lastUpdateTime"] = now;
    return;
  }
  conds->push_back({{"type", type},
                    {"status", status},
                    {"lastUpdateTime", now},
                    {"lastTransitionTime", now},
                    {"reason", reason},
                    {"message", message}});
}

}  // namespace

struct DeploymentController::State {
  json d;
  std::string ns, name, uid;
  int64_t replicas = 1;
  std::vector<json> rss;  // every ReplicaSet it controls, updated as they are scaled
  std::optional<size_t> new_rs;
  bool created = false;
  ResourceInfo rs_info, d_info;

  std::vector<size_t> Old() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < rss.size(); ++i) {
      if (i != new_rs) out.push_back(i);
    }
    std::sort(out.begin(), out.end(), [&](size_t a, size_t b) {
      return MetaField(rss[a], "creationTimestamp") < MetaField(rss[b], "creationTimestamp");
    });
    return out;
  }
  int64_t SumSpec() const {
    int64_t n = 0;
    for (const json& rs : rss) n += Spec(rs);
    return n;
  }
  int64_t SumStatus(const char* field) const {
    int64_t n = 0;
    for (const json& rs : rss) n += Stat(rs, field);
    return n;
  }
};

void DeploymentController::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  if (event.resource == kDeployments) {
    ctx_.queue.Add("deploy/" + event.ns + "|" + MetaField(object, "name"));
  } else if (event.resource == kReplicaSets) {
    for (const OwnerRef& r : OwnerRefs(object)) {
      if (r.controller && r.kind == "Deployment") {
        ctx_.queue.Add("deploy/" + event.ns + "|" + r.name);
      }
    }
  }
}

void DeploymentController::Process(const std::string& item) {
  size_t bar = item.find('|');
  if (bar == std::string::npos) return;
  Sync(item.substr(0, bar), item.substr(bar + 1));
}

bool DeploymentController::Scale(State& s, json& rs, int64_t replicas) {
  const int64_t from = Spec(rs);
  const std::string max_replicas = std::to_string(
      s.replicas + ResolveIntOrPercent(
                       s.d.value("/spec/strategy/rollingUpdate/maxSurge"_json_pointer, json("25%")),
                       s.replicas, true, 0));
  auto r = ctx_.handler.ModifyObject(s.rs_info, s.ns, MetaField(rs, "name"), MetaField(rs, "uid"),
                                     [&](json* o) {
                                       (*o)["spec"]["replicas"] = replicas;
                                       json& ann = (*o)["metadata"]["annotations"];
                                       if (!ann.is_object()) ann = json::object();
                                       ann[kDesired] = std::to_string(s.replicas);
                                       ann[kMaxReplicas] = max_replicas;
                                       return Status::Ok();
                                     });
  if (!r.ok()) {
    spdlog::warn("deployment {}/{}: scaling {}: {}", s.ns, s.name, MetaField(rs, "name"),
                 r.status().ToString());
    return false;
  }
  rs = r->object;
  if (from != replicas) {
    ctx_.RecordEvent(s.d, "Normal", "ScalingReplicaSet",
                     std::string(replicas > from ? "Scaled up" : "Scaled down") + " replica set " +
                         MetaField(rs, "name") + " to " + std::to_string(replicas) + " from " +
                         std::to_string(from),
                     kComponent);
  }
  return true;
}

std::optional<json> DeploymentController::NewReplicaSet(State& s, bool create) {
  const json tmpl = s.d.value("/spec/template"_json_pointer, json::object());
  const std::string hash = TemplateHash(tmpl, Int(s.d, "/status/collisionCount"_json_pointer, 0));
  int64_t max_old = 0;
  for (size_t i = 0; i < s.rss.size(); ++i) {
    const json& rs = s.rss[i];
    if (!s.new_rs && Str(rs, "/metadata/labels/pod-template-hash"_json_pointer) == hash &&
        Normalized(WithoutHash(rs.value("/spec/template"_json_pointer, json::object()))) ==
            Normalized(tmpl)) {
      s.new_rs = i;
    } else {
      max_old = std::max(max_old, Revision(rs));
    }
  }
  if (s.new_rs) {
    json& rs = s.rss[*s.new_rs];
    if (Revision(rs) <= max_old) {  // an older template came back (rollout undo)
      auto r = ctx_.handler.ModifyObject(
          s.rs_info, s.ns, MetaField(rs, "name"), MetaField(rs, "uid"), [&](json* o) {
            (*o)["metadata"]["annotations"][kRevision] = std::to_string(max_old + 1);
            return Status::Ok();
          });
      if (r.ok()) rs = r->object;
    }
    return rs;
  }
  if (!create) return std::nullopt;
  json rs_tmpl = tmpl;
  rs_tmpl["metadata"]["labels"][kHashLabel] = hash;
  json selector = s.d.value("/spec/selector"_json_pointer, json::object());
  selector["matchLabels"][kHashLabel] = hash;
  json annotations = json::object();
  const json d_annotations = s.d.value("/metadata/annotations"_json_pointer, json::object());
  for (const auto& [k, v] : d_annotations.items()) {
    if (k == "kubectl.kubernetes.io/last-applied-configuration" || k == kRevision ||
        k == "deployment.kubernetes.io/revision-history") {
      continue;
    }
    annotations[k] = v;
  }
  annotations[kRevision] = std::to_string(max_old + 1);
  annotations[kDesired] = std::to_string(s.replicas);
  json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", s.name + "-" + hash},
               {"namespace", s.ns},
               {"labels", rs_tmpl["metadata"]["labels"]},
               {"annotations", annotations},
               {"ownerReferences", json::array({ControllerRef(s.d)})}}},
             {"spec",
              {{"replicas", 0},
               {"minReadySeconds", Int(s.d, "/spec/minReadySeconds"_json_pointer, 0)},
               {"selector", selector},
               {"template", rs_tmpl}}}};
  auto made = ctx_.handler.CreateObject(s.rs_info, s.ns, rs);
  if (!made.ok()) {
    spdlog::warn("deployment {}/{}: creating replica set: {}", s.ns, s.name,
                 made.status().ToString());
    return std::nullopt;
  }
  s.rss.push_back(*made);
  s.new_rs = s.rss.size() - 1;
  s.created = true;
  return *made;
}

void DeploymentController::RollingUpdate(State& s) {
  json& nrs = s.rss[*s.new_rs];
  const json ru = s.d.value("/spec/strategy/rollingUpdate"_json_pointer, json::object());
  const int64_t max_surge =
      ResolveIntOrPercent(ru.value("maxSurge", json("25%")), s.replicas, true, 1);
  int64_t max_unavailable =
      ResolveIntOrPercent(ru.value("maxUnavailable", json("25%")), s.replicas, false, 0);
  if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
  // Scale the new ReplicaSet up as far as maxSurge allows.
  if (Spec(nrs) < s.replicas) {
    const int64_t room = s.replicas + max_surge - s.SumSpec();
    if (room > 0) Scale(s, nrs, Spec(nrs) + std::min(room, s.replicas - Spec(nrs)));
  } else if (Spec(nrs) > s.replicas) {
    Scale(s, nrs, s.replicas);
  }
  // Scale old ones down as far as maxUnavailable allows: unhealthy pods first.
  const int64_t min_available = s.replicas - max_unavailable;
  const int64_t new_unavailable = Spec(nrs) - Stat(nrs, "availableReplicas");
  int64_t budget = s.SumSpec() - min_available - new_unavailable;
  if (budget <= 0) return;
  for (size_t i : s.Old()) {
    if (budget <= 0) break;
    json& rs = s.rss[i];
    const int64_t unhealthy = Spec(rs) - Stat(rs, "availableReplicas");
    if (Spec(rs) == 0 || unhealthy <= 0) continue;
    const int64_t down = std::min(budget, unhealthy);
    if (Scale(s, rs, Spec(rs) - down)) budget -= down;
  }
  int64_t total = s.SumStatus("availableReplicas") - min_available;
  for (size_t i : s.Old()) {
    if (total <= 0) break;
    json& rs = s.rss[i];
    if (Spec(rs) == 0) continue;
    const int64_t down = std::min(Spec(rs), total);
    if (Scale(s, rs, Spec(rs) - down)) total -= down;
  }
}

void DeploymentController::Recreate(State& s) {
  bool old_running = false;
  for (size_t i : s.Old()) {
    json& rs = s.rss[i];
    if (Spec(rs) > 0) Scale(s, rs, 0);
    if (Stat(rs, "replicas") > 0) old_running = true;
  }
  if (old_running) return;  // the new pods start once every old one is gone
  if (Spec(s.rss[*s.new_rs]) != s.replicas) Scale(s, s.rss[*s.new_rs], s.replicas);
}

void DeploymentController::CleanupHistory(State& s) {
  const int64_t limit = Int(s.d, "/spec/revisionHistoryLimit"_json_pointer, 10);
  std::vector<size_t> idle;
  for (size_t i : s.Old()) {
    const json& rs = s.rss[i];
    if (Spec(rs) == 0 && Stat(rs, "replicas") == 0 && !IsTerminating(rs)) idle.push_back(i);
  }
  if (int64_t(idle.size()) <= limit) return;
  std::sort(idle.begin(), idle.end(),
            [&](size_t a, size_t b) { return Revision(s.rss[a]) < Revision(s.rss[b]); });
  for (size_t k = 0; k < idle.size() - size_t(limit); ++k) {
    const json& rs = s.rss[idle[k]];
    auto r = ctx_.handler.DeleteWithOptions(s.rs_info, s.ns, MetaField(rs, "name"), {});
    if (!r.ok() && r.status().code() != Code::kNotFound) {
      spdlog::warn("deployment {}/{}: removing old replica set {}: {}", s.ns, s.name,
                   MetaField(rs, "name"), r.status().ToString());
    }
  }
}

void DeploymentController::WriteStatus(State& s) {
  const bool paused = s.d.value("/spec/paused"_json_pointer, false);
  const int64_t max_unavailable = ResolveIntOrPercent(
      s.d.value("/spec/strategy/rollingUpdate/maxUnavailable"_json_pointer, json("25%")),
      s.replicas, false, 0);
  const int64_t replicas = s.SumStatus("replicas");
  const int64_t updated = s.new_rs ? Stat(s.rss[*s.new_rs], "replicas") : 0;
  const int64_t ready = s.SumStatus("readyReplicas");
  const int64_t available = s.SumStatus("availableReplicas");
  const int64_t unavailable = std::max<int64_t>(0, s.SumSpec() - available);
  const std::string now = FormatTimestamp(ctx_.clock.Now());
  const std::string rs_name = s.new_rs ? MetaField(s.rss[*s.new_rs], "name") : "";
  const std::string revision = s.new_rs ? std::to_string(Revision(s.rss[*s.new_rs])) : "";
  auto r = ctx_.handler.ModifyObject(s.d_info, s.ns, s.name, s.uid, [&](json* o) {
    json status = o->value("status", json::object());
    json conds = status.value("conditions", json::array());
    if (!conds.is_array()) conds = json::array();
    const bool strategy_recreate = Str(*o, "/spec/strategy/type"_json_pointer) == "Recreate";
    if (available >= s.replicas - (strategy_recreate ? 0 : max_unavailable)) {
      SetCondition(&conds, "Available", "True", "MinimumReplicasAvailable",
                   "Deployment has minimum availability.", now);
    } else {
      SetCondition(&conds, "Available", "False", "MinimumReplicasUnavailable",
                   "Deployment does not have minimum availability.", now);
    }
    const bool complete = s.new_rs && updated == s.replicas && replicas == s.replicas &&
                          available == s.replicas && Spec(s.rss[*s.new_rs]) == s.replicas;
    if (paused) {
      SetCondition(&conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused",
                   now);
    } else if (complete) {
      SetCondition(&conds, "Progressing", "True", "NewReplicaSetAvailable",
                   "ReplicaSet \"" + rs_name + "\" has successfully progressed.", now);
    } else if (s.created) {
      SetCondition(&conds, "Progressing", "True", "NewReplicaSetCreated",
                   "Created new replica set \"" + rs_name + "\"", now);
    } else if (!rs_name.empty()) {
      SetCondition(&conds, "Progressing", "True", "ReplicaSetUpdated",
                   "ReplicaSet \"" + rs_name + "\" is progressing.", now);
    }
    status["observedGeneration"] = Int(*o, "/metadata/generation"_json_pointer, 1);
    status["replicas"] = replicas;
    status["updatedReplicas"] = updated;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["unavailableReplicas"] = unavailable;
    for (const char* k : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                          "unavailableReplicas"}) {
      if (status[k] == 0) status.erase(k);  // omitempty, as kube writes them
    }
    status["conditions"] = conds;
    (*o)["status"] = status;
    if (!revision.empty()) (*o)["metadata"]["annotations"][kRevision] = revision;
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) {
    spdlog::warn("deployment {}/{}: status: {}", s.ns, s.name, r.status().ToString());
  }
}

void DeploymentController::Sync(const std::string& ns, const std::string& name) {
  std::optional<json> d = ctx_.store.Get(kDeployments, ns, name);
  if (!d || IsTerminating(*d)) return;  // its ReplicaSets go with it (garbage collector)
  auto rs_info = ctx_.ResourceForKey(kReplicaSets);
  auto d_info = ctx_.ResourceForKey(kDeployments);
  if (!rs_info || !d_info) return;
  State s;
  s.d = std::move(*d);
  s.ns = ns;
  s.name = name;
  s.uid = MetaField(s.d, "uid");
  s.replicas = Int(s.d, "/spec/replicas"_json_pointer, 1);
  s.rs_info = *rs_info;
  s.d_info = *d_info;
  for (json& rs : Controlled(ctx_.store, kReplicaSets, ns, s.uid)) {
    if (!IsTerminating(rs)) s.rss.push_back(std::move(rs));
  }
  const bool paused = s.d.value("/spec/paused"_json_pointer, false);
  if (!NewReplicaSet(s, /*create=*/!paused)) {
    // Paused on a template no ReplicaSet has: only the replica count follows.
    if (s.rss.size() == 1 && Spec(s.rss[0]) != s.replicas) Scale(s, s.rss[0], s.replicas);
    WriteStatus(s);
    return;
  }
  if (paused) {
    if (s.rss.size() == 1 && Spec(s.rss[0]) != s.replicas) Scale(s, s.rss[0], s.replicas);
  } else if (Str(s.d, "/spec/strategy/type"_json_pointer) == "Recreate") {
    Recreate(s);
  } else {
    RollingUpdate(s);
  }
  CleanupHistory(s);
  WriteStatus(s);
}

}  // namespace stash::api
