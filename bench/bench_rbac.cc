// RBAC decisions on a server holding many objects: the subject-keyed index
// (api::RbacAuthorizer) beside kube-apiserver's approach, which visits every
// ClusterRoleBinding and every RoleBinding of the request's namespace and
// resolves their roles on each request. 1,000 namespaces, each with a
// ServiceAccount, a Role and a RoleBinding (the operator's per-
// BackupConfiguration RBAC), plus 200 ClusterRoleBindings.
//
//   bench_rbac --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <map>

#include "rbac.h"

namespace {

using stash::api::Attributes;
using stash::api::RbacAuthorizer;
using stash::api::UserInfo;
using json = nlohmann::json;

constexpr int kNamespaces = 1000;
constexpr int kClusterBindings = 200;

json Role(int i) {
  return {{"metadata", {{"name", "stash-bc"}, {"namespace", "ns" + std::to_string(i)}}},
          {"rules",
           {{{"apiGroups", {"coordination.k8s.io"}},
             {"resources", {"leases"}},
             {"verbs", {"get", "create", "update"}}},
            {{"apiGroups", {"stash.appscode.com"}},
             {"resources", {"backupsessions", "backupsessions/status"}},
             {"verbs", {"get", "list", "watch", "create", "patch"}}},
            {{"apiGroups", {""}},
             {"resources", {"secrets"}},
             {"resourceNames", {"repo-secret"}},
             {"verbs", {"get"}}}}}};
}

json Binding(const std::string& ns, const std::string& name, const std::string& kind,
             const std::string& role, const json& subjects) {
  json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  return {{"metadata", m}, {"roleRef", {{"kind", kind}, {"name", role}}}, {"subjects", subjects}};
}

struct World {
  std::map<std::string, json> roles;  // "ns/name"
  std::vector<json> cluster_bindings;
  std::map<std::string, std::vector<json>> bindings;  // by namespace
  RbacAuthorizer index;
  World() {
    for (int i = 0; i < kNamespaces; ++i) {
      std::string ns = "ns" + std::to_string(i);
      json role = Role(i);
      roles[ns + "/stash-bc"] = role;
      index.Apply(RbacAuthorizer::kRoles, ns, role, false);
      json b = Binding(ns, "stash-bc", "Role", "stash-bc",
                       {{{"kind", "ServiceAccount"}, {"name", "app"}}});
      bindings[ns].push_back(b);
      index.Apply(RbacAuthorizer::kRoleBindings, ns, b, false);
    }
    json view = {{"metadata", {{"name", "view"}}},
                 {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get"}}}}}};
    roles["/view"] = view;
    index.Apply(RbacAuthorizer::kClusterRoles, "", view, false);
    for (int i = 0; i < kClusterBindings; ++i) {
      json b = Binding("", "crb" + std::to_string(i), "ClusterRole", "view",
                       {{{"kind", "User"}, {"name", "user" + std::to_string(i)}}});
      cluster_bindings.push_back(b);
      index.Apply(RbacAuthorizer::kClusterRoleBindings, "", b, false);
    }
  }
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

UserInfo App(int i) {
  return {"system:serviceaccount:ns" + std::to_string(i) + ":app",
          "",
          {"system:serviceaccounts", "system:serviceaccounts:ns" + std::to_string(i),
           "system:authenticated"},
          {}};
}

Attributes GetSecret(int i, const std::string& name) {
  Attributes a;
  a.resource_request = true;
  a.verb = "get";
  a.resource = "secrets";
  a.ns = "ns" + std::to_string(i);
  a.name = name;
  return a;
}

// kube's way: every cluster binding, then the namespace's bindings, each
// subject compared, each role's rules compiled from the stored object.
bool Scan(const World& w, const UserInfo& u, const Attributes& a) {
  auto applies = [&](const json& b, const std::string& ns) {
    for (const json& s : b["subjects"]) {
      std::string kind = s.value("kind", ""), name = s.value("name", "");
      if (kind == "User" && name == u.name) return true;
      if (kind == "Group" && u.InGroup(name)) return true;
      if (kind == "ServiceAccount") {
        std::string sns = s.value("namespace", ns);
        if ("system:serviceaccount:" + sns + ":" + name == u.name) return true;
      }
    }
    return false;
  };
  auto check = [&](const json& b, const std::string& ns) {
    if (!applies(b, ns)) return false;
    bool cluster = b["roleRef"].value("kind", "") == "ClusterRole";
    auto it = w.roles.find((cluster ? "" : ns) + "/" + b["roleRef"].value("name", ""));
    if (it == w.roles.end()) return false;
    for (const auto& r : stash::api::CompileRules(it->second["rules"])) {
      if (r.Matches(a)) return true;
    }
    return false;
  };
  for (const json& b : w.cluster_bindings) {
    if (check(b, "")) return true;
  }
  auto it = w.bindings.find(a.ns);
  if (it != w.bindings.end()) {
    for (const json& b : it->second) {
      if (check(b, a.ns)) return true;
    }
  }
  return false;
}

void BM_IndexAllowed(benchmark::State& state) {
  World& w = TheWorld();
  UserInfo u = App(500);
  Attributes a = GetSecret(500, "repo-secret");
  for (auto _ : state) benchmark::DoNotOptimize(w.index.Authorize(u, a).allowed);
}
void BM_IndexDenied(benchmark::State& state) {
  World& w = TheWorld();
  UserInfo u = App(500);
  Attributes a = GetSecret(500, "other-secret");
  for (auto _ : state) benchmark::DoNotOptimize(w.index.Authorize(u, a).allowed);
}
void BM_KubeScanAllowed(benchmark::State& state) {
  World& w = TheWorld();
  UserInfo u = App(500);
  Attributes a = GetSecret(500, "repo-secret");
  for (auto _ : state) benchmark::DoNotOptimize(Scan(w, u, a));
}
void BM_KubeScanDenied(benchmark::State& state) {
  World& w = TheWorld();
  UserInfo u = App(500);
  Attributes a = GetSecret(500, "other-secret");
  for (auto _ : state) benchmark::DoNotOptimize(Scan(w, u, a));
}
BENCHMARK(BM_IndexAllowed);
BENCHMARK(BM_KubeScanAllowed);
BENCHMARK(BM_IndexDenied);
BENCHMARK(BM_KubeScanDenied);

}  // namespace

BENCHMARK_MAIN();
