// The resource types of authentication and authorization that the registry
// serves beside the workload kinds.
#include "registry.h"

namespace stash::api {

namespace {

ResourceInfo Info(std::string group, std::string resource, std::string kind, bool namespaced,
                  std::vector<std::string> short_names = {}, bool create_only = false) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = "v1";
  r.resource = std::move(resource);
  r.kind = std::move(kind);
  r.singular = r.kind;
  for (char& c : r.singular) c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
  r.short_names = std::move(short_names);
  r.namespaced = namespaced;
  if (create_only) r.verbs = {"create"};  // reviews: only POST, nothing is stored
  return r;
}

}  // namespace

std::vector<ResourceInfo> AuthResources() {
  const std::string rbac = "rbac.authorization.k8s.io", authz = "authorization.k8s.io",
                    authn = "authentication.k8s.io";
  return {
      Info("", "serviceaccounts", "ServiceAccount", true, {"sa"}),
      Info(rbac, "roles", "Role", true),
      Info(rbac, "rolebindings", "RoleBinding", true),
      Info(rbac, "clusterroles", "ClusterRole", false),
      Info(rbac, "clusterrolebindings", "ClusterRoleBinding", false),
      Info(authz, "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, {}, true),
      Info(authz, "selfsubjectrulesreviews", "SelfSubjectRulesReview", false, {}, true),
      Info(authz, "subjectaccessreviews", "SubjectAccessReview", false, {}, true),
      Info(authz, "localsubjectaccessreviews", "LocalSubjectAccessReview", true, {}, true),
      Info(authn, "selfsubjectreviews", "SelfSubjectReview", false, {}, true),
      Info(authn, "tokenreviews", "TokenReview", false, {}, true),
  };
}

}  // namespace stash::api
