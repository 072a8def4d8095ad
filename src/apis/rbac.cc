#include "stash/apis/rbac.h"

namespace stash::apis {

template <class V>
void PolicyRule::Visit(V& v) {
  v("apiGroups", api_groups);
  v("resources", resources);
  v("verbs", verbs);
  v("resourceNames", resource_names);
}
STASH_APIS_DEFINE_CODEC(PolicyRule);

const kube::Resource& Role::Resource() {
  static const kube::Resource r{"rbac.authorization.k8s.io", "v1", "roles", "Role"};
  return r;
}

template <class V>
void Role::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("rules", rules);
}
STASH_APIS_DEFINE_CODEC(Role);

template <class V>
void Subject::Visit(V& v) {
  v("kind", kind);
  v("apiGroup", api_group);
  v("name", name);
  v("namespace", namespace_);
}
STASH_APIS_DEFINE_CODEC(Subject);

template <class V>
void RoleRef::Visit(V& v) {
  v("apiGroup", api_group);
  v("kind", kind);
  v("name", name);
}
STASH_APIS_DEFINE_CODEC(RoleRef);

const kube::Resource& RoleBinding::Resource() {
  static const kube::Resource r{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"};
  return r;
}

template <class V>
void RoleBinding::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("subjects", subjects);
  v("roleRef", role_ref);
}
STASH_APIS_DEFINE_CODEC(RoleBinding);

}  // namespace stash::apis
