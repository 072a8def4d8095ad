#include "endpoints_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "object_meta.h"
#include "stash/api/selector.h"

namespace stash::api {

namespace {

constexpr const char* kServices = "/services";
constexpr const char* kEndpoints = "/endpoints";
constexpr const char* kPods = "/pods";
constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";

const json& Member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string StrOf(const json& obj, const char* key) {
  const json& v = Member(obj, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// The Service's selector as a map; empty when it has none (selectorless).
std::map<std::string, std::string> Selector(const json& service) {
  std::map<std::string, std::string> out;
  const json& sel = Member(Member(service, "spec"), "selector");
  if (!sel.is_object()) return out;
  for (const auto& [k, v] : sel.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

bool Managed(const json& service) {
  return !Selector(service).empty() && StrOf(Member(service, "spec"), "type") != "ExternalName";
}

bool MatchesSelector(const std::map<std::string, std::string>& selector, const json& pod) {
  const json& labels = Member(Member(pod, "metadata"), "labels");
  for (const auto& [k, v] : selector) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

bool PodReadyCondition(const json& pod) {
  const json& conditions = Member(Member(pod, "status"), "conditions");
  if (!conditions.is_array()) return false;
  for (const json& c : conditions) {
    if (StrOf(c, "type") == "Ready") return StrOf(c, "status") == "True";
  }
  return false;
}

// kube's ShouldPodBeInEndpoints.
bool PodBelongs(const json& pod, bool include_terminating) {
  const json& status = Member(pod, "status");
  if (StrOf(status, "podIP").empty()) return false;
  if (!include_terminating && !MetaField(pod, "deletionTimestamp").empty()) return false;
  const std::string restart = StrOf(Member(pod, "spec"), "restartPolicy");
  const std::string phase = StrOf(status, "phase");
  if (restart == "Never") return phase != "Failed" && phase != "Succeeded";
  if (restart == "OnFailure") return phase != "Succeeded";
  return true;
}

// The pod's port for a Service port, or 0 when it has no such named port.
int64_t PodPort(const json& pod, const json& service_port) {
  const json& target = Member(service_port, "targetPort");
  if (target.is_number_integer()) return target.get<int64_t>();
  if (target.is_string()) {
    const std::string name = target.get<std::string>();
    // A numeric string is a number (intstr from YAML written as "8444").
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
      return std::stoll(name);
    }
    std::string protocol = StrOf(service_port, "protocol");
    if (protocol.empty()) protocol = "TCP";
    const json& containers = Member(Member(pod, "spec"), "containers");
    for (const json& c : containers.is_array() ? containers : json::array()) {
      const json& ports = Member(c, "ports");
      for (const json& p : ports.is_array() ? ports : json::array()) {
        std::string proto = StrOf(p, "protocol");
        if (proto.empty()) proto = "TCP";
        if (StrOf(p, "name") == name && proto == protocol) {
          return Member(p, "containerPort").is_number_integer()
                     ? Member(p, "containerPort").get<int64_t>()
                     : 0;
        }
      }
    }
    return 0;
  }
  const json& port = Member(service_port, "port");
  return port.is_number_integer() ? port.get<int64_t>() : 0;
}

json Address(const json& pod, const json& service) {
  json a = {{"ip", StrOf(Member(pod, "status"), "podIP")}};
  const json& spec = Member(pod, "spec");
  if (!StrOf(spec, "hostname").empty() && StrOf(spec, "subdomain") == MetaField(service, "name")) {
    a["hostname"] = StrOf(spec, "hostname");
  }
  if (!StrOf(spec, "nodeName").empty()) a["nodeName"] = StrOf(spec, "nodeName");
  a["targetRef"] = {{"kind", "Pod"},
                    {"namespace", MetaField(pod, "namespace")},
                    {"name", MetaField(pod, "name")},
                    {"uid", MetaField(pod, "uid")}};
  return a;
}

bool ByIp(const json& a, const json& b) {
  return std::make_pair(StrOf(a, "ip"), MetaField(Member(a, "targetRef"), "name")) <
         std::make_pair(StrOf(b, "ip"), MetaField(Member(b, "targetRef"), "name"));
}

// The labels kube's endpoints controller gives an Endpoints object.
json EndpointsLabels(const json& service) {
  json labels = Member(Member(service, "metadata"), "labels");
  if (!labels.is_object()) labels = json::object();
  if (StrOf(Member(service, "spec"), "clusterIP") == "None") {
    labels[kHeadlessLabel] = "";
  } else {
    labels.erase(kHeadlessLabel);
  }
  return labels;
}

}  // namespace

json EndpointSubsets(const json& service, const std::vector<json>& pods) {
  const json& spec = Member(service, "spec");
  const bool publish = Member(spec, "publishNotReadyAddresses") == true;
  const std::map<std::string, std::string> selector = Selector(service);
  const json& service_ports = Member(spec, "ports");
  const bool headless = StrOf(spec, "clusterIP") == "None";
  // The ports of each address decide its subset: key = the ports' JSON.
  struct Subset {
    json ports = json::array();
    json ready = json::array();
    json not_ready = json::array();
  };
  std::map<std::string, Subset> subsets;
  for (const json& pod : pods) {
    if (!MatchesSelector(selector, pod) || !PodBelongs(pod, publish)) continue;
    json ports = json::array();
    for (const json& sp : service_ports.is_array() ? service_ports : json::array()) {
      const int64_t number = PodPort(pod, sp);
      if (number <= 0) continue;
      json p = {{"port", number},
                {"protocol", StrOf(sp, "protocol").empty() ? "TCP" : StrOf(sp, "protocol")}};
      if (!StrOf(sp, "name").empty()) p["name"] = StrOf(sp, "name");
      if (!StrOf(sp, "appProtocol").empty()) p["appProtocol"] = StrOf(sp, "appProtocol");
      ports.push_back(std::move(p));
    }
    const bool has_service_ports = service_ports.is_array() && !service_ports.empty();
    if (ports.empty() && (has_service_ports || !headless)) continue;
    Subset& s = subsets[ports.dump()];
    s.ports = ports;
    (publish || PodReadyCondition(pod) ? s.ready : s.not_ready).push_back(Address(pod, service));
  }
  json out = json::array();
  for (auto& [key, s] : subsets) {
    std::vector<json> ready(s.ready.begin(), s.ready.end());
    std::vector<json> not_ready(s.not_ready.begin(), s.not_ready.end());
    std::sort(ready.begin(), ready.end(), ByIp);
    std::sort(not_ready.begin(), not_ready.end(), ByIp);
    json subset = json::object();
    if (!ready.empty()) subset["addresses"] = ready;
    if (!not_ready.empty()) subset["notReadyAddresses"] = not_ready;
    if (!s.ports.empty()) subset["ports"] = s.ports;
    out.push_back(std::move(subset));
  }
  return out;
}

void EndpointsController::EnqueueNamespace(const std::string& ns) {
  for (const json& svc : ctx_.store.List(kServices, ns, nullptr)) {
    if (Managed(svc)) ctx_.queue.Add("ep/sync|" + ns + "|" + MetaField(svc, "name"));
  }
}

void EndpointsController::OnEvent(const WatchEvent& event) {
  const json& obj = *event.object;
  if (event.resource == kServices) {
    const std::string name = MetaField(obj, "name");
    ctx_.queue.Add((event.type == EventType::kDeleted ? "ep/del|" : "ep/sync|") + event.ns + "|" +
                   name);
  } else if (event.resource == kPods) {
    // A status write that changes nothing endpoints show (most of them) is
    // not worth a pass over the namespace's Services.
    if (event.previous && event.type == EventType::kModified) {
      const json& a = *event.previous;
      auto same = [&](const char* key) {
        return Member(Member(a, "status"), key) == Member(Member(obj, "status"), key);
      };
      if (Member(Member(a, "metadata"), "labels") == Member(Member(obj, "metadata"), "labels") &&
          MetaField(a, "deletionTimestamp") == MetaField(obj, "deletionTimestamp") &&
          Member(a, "spec") == Member(obj, "spec") && same("podIP") && same("phase") &&
          PodReadyCondition(a) == PodReadyCondition(obj)) {
        return;
      }
    }
    EnqueueNamespace(event.ns);
  } else if (event.resource == kEndpoints) {
    // Someone else changed (or deleted) managed Endpoints: put them back.
    const std::string name = MetaField(obj, "name");
    auto svc = ctx_.store.Get(kServices, event.ns, name);
    if (svc && Managed(*svc)) ctx_.queue.Add("ep/sync|" + event.ns + "|" + name);
  }
}

void EndpointsController::Process(const std::string& item) {
  auto key = ObjectKey::Parse(item);
  if (!key) return;
  const std::string& ns = key->ns;
  const std::string& name = key->name;
  if (key->resource == "del") {
    // The Service went: its Endpoints go too (unless it is back already).
    if (ctx_.store.Get(kServices, ns, name)) return Sync(ns, name);
    auto info = ctx_.ResourceForKey(kEndpoints);
    if (!info || !ctx_.store.Get(kEndpoints, ns, name)) return;
    auto r = ctx_.handler.DeleteWithOptions(*info, ns, name, DeleteOptions{});
    if (!r.ok() && r.status().code() != Code::kNotFound) {
      spdlog::warn("endpoints controller: deleting endpoints {}/{}: {}", ns, name,
                   r.status().ToString());
    }
    return;
  }
  Sync(ns, name);
}

void EndpointsController::Sync(const std::string& ns, const std::string& name) {
  auto service = ctx_.store.Get(kServices, ns, name);
  if (!service || !Managed(*service)) return;
  auto info = ctx_.ResourceForKey(kEndpoints);
  if (!info) return;
  const json subsets = EndpointSubsets(*service, ctx_.store.List(kPods, ns, nullptr));
  const json labels = EndpointsLabels(*service);
  auto existing = ctx_.store.Get(kEndpoints, ns, name);
  if (!existing) {
    json ep = {{"apiVersion", "v1"},
               {"kind", "Endpoints"},
               {"metadata", {{"name", name}, {"namespace", ns}}}};
    if (!labels.empty()) ep["metadata"]["labels"] = labels;
    if (!subsets.empty()) ep["subsets"] = subsets;
    auto r = ctx_.handler.CreateObject(*info, ns, ep);
    if (!r.ok() && r.status().code() == Code::kAlreadyExists) {
      ctx_.queue.Add("ep/sync|" + ns + "|" + name);  // made meanwhile: update it
    } else if (!r.ok()) {
      // E.g. a terminating namespace refuses new content until the
      // Service goes with it.
      spdlog::debug("endpoints controller: creating endpoints {}/{}: {}", ns, name,
                    r.status().ToString());
      ctx_.queue.Add("ep/sync|" + ns + "|" + name, std::chrono::seconds(5));
    }
    return;
  }
  auto r = ctx_.handler.ModifyObject(*info, ns, name, "", [&](json* ep) {
    json& meta = (*ep)["metadata"];
    if (labels.empty()) {
      meta.erase("labels");
    } else {
      meta["labels"] = labels;
    }
    if (subsets.empty()) {
      ep->erase("subsets");
    } else {
      (*ep)["subsets"] = subsets;
    }
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound) {
    spdlog::warn("endpoints controller: updating endpoints {}/{}: {}", ns, name,
                 r.status().ToString());
    ctx_.queue.Add("ep/sync|" + ns + "|" + name, std::chrono::seconds(1));
  }
}

}  // namespace stash::api
