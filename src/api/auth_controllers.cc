// Auth's controllers: the bootstrap policy, a `default` ServiceAccount per
// namespace and the rules of aggregated ClusterRoles — kube-controller-
// manager's serviceaccount and clusterrole-aggregation controllers.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth.h"
#include "stash/api/selector.h"

namespace stash::api {

using json = nlohmann::json;

std::vector<json> BootstrapPolicy();  // auth_bootstrap.cc

void Auth::Start(Internal internal) {
  internal_ = std::move(internal);
  store_.AddWriteHook([this](EventType type, const std::string& resource, const std::string& ns,
                             const json& object) { OnWrite(type, resource, ns, object); });
  for (const char* resource :
       {RbacAuthorizer::kServiceAccounts, RbacAuthorizer::kRoles, RbacAuthorizer::kClusterRoles,
        RbacAuthorizer::kRoleBindings, RbacAuthorizer::kClusterRoleBindings}) {
    for (const json& obj : store_.List(resource, "", nullptr)) {
      rbac_.Apply(resource, obj["metadata"].value("namespace", ""), obj, false);
    }
  }
  Bootstrap();
  {
    std::lock_guard lock(mu_);
    for (const json& ns : store_.List("/namespaces", "", nullptr)) {
      queue_.push_back("ns:" + ns["metadata"].value("name", ""));
    }
    queue_.push_back("aggregate");
  }
  worker_ = std::thread([this] { Work(); });
}

void Auth::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Auth::WaitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || (queue_.empty() && !busy_); });
}

void Auth::OnWrite(EventType type, const std::string& resource, const std::string& ns,
                   const json& object) {
  const bool deleted = type == EventType::kDeleted;
  rbac_.Apply(resource, ns, object, deleted);
  std::string item;
  const json& meta = object.value("metadata", json::object());
  if (resource == "/namespaces" && !deleted && !meta.contains("deletionTimestamp") &&
      !rbac_.ServiceAccountUid(meta.value("name", ""), "default")) {
    item = "ns:" + meta.value("name", "");
  } else if (resource == RbacAuthorizer::kServiceAccounts && deleted &&
             meta.value("name", "") == "default") {
    item = "ns:" + ns;
  } else if (resource == RbacAuthorizer::kClusterRoles) {
    item = "aggregate";
  }
  if (item.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (std::find(queue_.begin(), queue_.end(), item) != queue_.end()) return;
    queue_.push_back(std::move(item));
  }
  cv_.notify_all();
}

void Auth::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (item.rfind("ns:", 0) == 0) {
      EnsureDefaultServiceAccount(item.substr(3));
    } else if (item == "aggregate") {
      Aggregate();
    }
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

HttpResponse Auth::Call(const std::string& method, const std::string& path, const json& body) {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.authorization = "Bearer " + admin_token_;
  req.content_type = method == "PATCH" ? "application/merge-patch+json" : "application/json";
  req.body = body.dump();
  return internal_(req);
}

void Auth::EnsureDefaultServiceAccount(const std::string& ns) {
  if (ns.empty() || rbac_.ServiceAccountUid(ns, "default")) return;
  auto nsobj = store_.Get("/namespaces", "", ns);
  if (!nsobj || (*nsobj)["metadata"].contains("deletionTimestamp")) return;
  HttpResponse r = Call("POST", "/api/v1/namespaces/" + ns + "/serviceaccounts",
                        {{"apiVersion", "v1"},
                         {"kind", "ServiceAccount"},
                         {"metadata", {{"name", "default"}, {"namespace", ns}}}});
  if (r.status >= 300 && r.status != 409 && r.status != 403 && r.status != 404) {
    spdlog::warn("creating ServiceAccount {}/default: {}", ns, r.body);
  }
}

void Auth::Aggregate() {
  std::vector<json> roles = store_.List(RbacAuthorizer::kClusterRoles, "", nullptr);
  for (const json& role : roles) {
    const json& rule = role.value("aggregationRule", json());
    if (!rule.is_object()) continue;
    std::vector<LabelSelector> selectors;
    for (const json& s : rule.value("clusterRoleSelectors", json::array())) {
      auto sel = LabelSelector::FromJson(s);
      if (sel.ok()) selectors.push_back(std::move(*sel));
    }
    const std::string name = role["metadata"].value("name", "");
    json rules = json::array();
    for (const json& other : roles) {  // List is sorted by name, as kube's controller sorts
      if (other["metadata"].value("name", "") == name) continue;
      const json labels = other["metadata"].value("labels", json::object());
      bool match = std::any_of(selectors.begin(), selectors.end(),
                               [&](const LabelSelector& s) { return s.Matches(labels); });
      if (!match) continue;
      for (const json& r : other.value("rules", json::array())) {
        if (std::find(rules.begin(), rules.end(), r) == rules.end()) rules.push_back(r);
      }
    }
    if (role.value("rules", json::array()) == rules) continue;
    HttpResponse r = Call("PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/" + name,
                          {{"rules", rules}});
    if (r.status >= 300) spdlog::warn("aggregating ClusterRole {}: {}", name, r.body);
  }
}

void Auth::Bootstrap() {
  for (const json& obj : BootstrapPolicy()) {
    const std::string kind = obj.value("kind", "");
    const std::string plural = kind == "ClusterRole"          ? "clusterroles"
                               : kind == "ClusterRoleBinding" ? "clusterrolebindings"
                                                              : "roles";
    const std::string name = obj["metadata"].value("name", "");
    const std::string ns = obj["metadata"].value("namespace", "");
    if (store_.Get("rbac.authorization.k8s.io/" + plural, ns, name)) continue;
    HttpResponse r = Call("POST",
                          "/apis/rbac.authorization.k8s.io/v1/" +
                              (ns.empty() ? "" : "namespaces/" + ns + "/") + plural,
                          obj);
    if (r.status >= 300 && r.status != 409) {
      spdlog::warn("creating bootstrap {} {}: {}", kind, name, r.body);
    }
  }
}

}  // namespace stash::api
