// kube-apiserver's bootstrap RBAC policy, trimmed to the kinds this server
// serves: cluster-admin (bound to system:masters), the aggregated admin/edit/
// view roles, and the roles every user, ServiceAccount or anonymous caller of
// the public paths needs (discovery, self reviews, health, OIDC discovery).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stash::api {

using json = nlohmann::json;

namespace {

const char* kPolicy = R"json([
{"kind":"ClusterRole","metadata":{"name":"cluster-admin"},"rules":[
  {"apiGroups":["*"],"resources":["*"],"verbs":["*"]},
  {"nonResourceURLs":["*"],"verbs":["*"]}]},
{"kind":"ClusterRole","metadata":{"name":"admin"},"aggregationRule":{"clusterRoleSelectors":[
  {"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}}]}},
{"kind":"ClusterRole","metadata":{"name":"edit","labels":{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}},
 "aggregationRule":{"clusterRoleSelectors":[
  {"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}}]}},
{"kind":"ClusterRole","metadata":{"name":"view","labels":{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}},
 "aggregationRule":{"clusterRoleSelectors":[
  {"matchLabels":{"rbac.authorization.k8s.io/aggregate-to-view":"true"}}]}},
{"kind":"ClusterRole","metadata":{"name":"system:aggregate-to-admin","labels":{"rbac.authorization.k8s.io/aggregate-to-admin":"true"}},
 "rules":[
  {"apiGroups":["authorization.k8s.io"],"resources":["localsubjectaccessreviews"],"verbs":["create"]},
  {"apiGroups":["rbac.authorization.k8s.io"],"resources":["rolebindings","roles"],
   "verbs":["create","delete","deletecollection","get","list","patch","update","watch"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:aggregate-to-edit","labels":{"rbac.authorization.k8s.io/aggregate-to-edit":"true"}},
 "rules":[
  {"apiGroups":[""],"resources":["pods","pods/attach","pods/exec","pods/portforward","pods/proxy"],
   "verbs":["create","delete","deletecollection","patch","update"]},
  {"apiGroups":[""],"resources":["configmaps","events","persistentvolumeclaims","secrets","serviceaccounts"],
   "verbs":["create","delete","deletecollection","patch","update"]},
  {"apiGroups":[""],"resources":["serviceaccounts/token"],"verbs":["create"]},
  {"apiGroups":["apps"],"resources":["daemonsets","deployments","deployments/scale","statefulsets","statefulsets/scale","replicasets","replicasets/scale"],
   "verbs":["create","delete","deletecollection","patch","update"]},
  {"apiGroups":["batch"],"resources":["cronjobs","jobs"],"verbs":["create","delete","deletecollection","patch","update"]},
  {"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["create","delete","deletecollection","get","list","patch","update","watch"]},
  {"apiGroups":[""],"resources":["secrets"],"verbs":["get","list","watch"]},
  {"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["impersonate"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:aggregate-to-view","labels":{"rbac.authorization.k8s.io/aggregate-to-view":"true"}},
 "rules":[
  {"apiGroups":[""],"resources":["configmaps","events","persistentvolumeclaims","persistentvolumeclaims/status","pods","pods/log","pods/status","serviceaccounts"],
   "verbs":["get","list","watch"]},
  {"apiGroups":[""],"resources":["namespaces","namespaces/status"],"verbs":["get","list","watch"]},
  {"apiGroups":["apps"],"resources":["daemonsets","daemonsets/status","deployments","deployments/scale","deployments/status","replicasets","replicasets/scale","replicasets/status","statefulsets","statefulsets/scale","statefulsets/status"],
   "verbs":["get","list","watch"]},
  {"apiGroups":["batch"],"resources":["cronjobs","cronjobs/status","jobs","jobs/status"],"verbs":["get","list","watch"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:basic-user"},"rules":[
  {"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"],"verbs":["create"]},
  {"apiGroups":["authentication.k8s.io"],"resources":["selfsubjectreviews"],"verbs":["create"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:discovery"},"rules":[
  {"nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/livez","/openapi","/openapi/*","/readyz","/version","/version/"],"verbs":["get"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:public-info-viewer"},"rules":[
  {"nonResourceURLs":["/healthz","/livez","/readyz","/version","/version/"],"verbs":["get"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:service-account-issuer-discovery"},"rules":[
  {"nonResourceURLs":["/.well-known/openid-configuration","/.well-known/openid-configuration/","/openid/v1/jwks","/openid/v1/jwks/"],"verbs":["get"]}]},
{"kind":"ClusterRole","metadata":{"name":"system:auth-delegator"},"rules":[
  {"apiGroups":["authentication.k8s.io"],"resources":["tokenreviews"],"verbs":["create"]},
  {"apiGroups":["authorization.k8s.io"],"resources":["subjectaccessreviews"],"verbs":["create"]}]},
{"kind":"Role","metadata":{"name":"extension-apiserver-authentication-reader","namespace":"kube-system"},"rules":[
  {"apiGroups":[""],"resources":["configmaps"],"resourceNames":["extension-apiserver-authentication"],"verbs":["get","list","watch"]}]},
{"kind":"ClusterRoleBinding","metadata":{"name":"cluster-admin"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:masters"}]},
{"kind":"ClusterRoleBinding","metadata":{"name":"system:basic-user"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:basic-user"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}]},
{"kind":"ClusterRoleBinding","metadata":{"name":"system:discovery"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:discovery"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}]},
{"kind":"ClusterRoleBinding","metadata":{"name":"system:public-info-viewer"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:public-info-viewer"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"},
             {"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:unauthenticated"}]},
{"kind":"ClusterRoleBinding","metadata":{"name":"system:service-account-issuer-discovery"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:service-account-issuer-discovery"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:serviceaccounts"}]}
])json";

}  // namespace

std::vector<json> BootstrapPolicy() {
  std::vector<json> out;
  for (json obj : json::parse(kPolicy)) {
    obj["apiVersion"] = "rbac.authorization.k8s.io/v1";
    obj["metadata"]["labels"]["kubernetes.io/bootstrapping"] = "rbac-defaults";
    obj["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "true";
    out.push_back(std::move(obj));
  }
  return out;
}

}  // namespace stash::api
