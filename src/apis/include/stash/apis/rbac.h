// rbac.authorization.k8s.io/v1 Role and RoleBinding: the permissions the
// operator grants stash's own pods (controller/rbac.h).
//
// Thread-safety: plain value types.
#pragma once

#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct PolicyRule {
  std::vector<std::string> api_groups;  // "" is the core group
  std::vector<std::string> resources;
  std::vector<std::string> verbs;
  std::vector<std::string> resource_names;  // empty: every object
  STASH_APIS_STRUCT(PolicyRule);
};
STASH_APIS_DECLARE_CODEC(PolicyRule);

struct Role {
  static const kube::Resource& Resource();
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::vector<PolicyRule> rules;
  STASH_APIS_STRUCT(Role);
};
STASH_APIS_DECLARE_CODEC(Role);

struct Subject {
  std::string kind;  // ServiceAccount, User, Group
  std::string api_group;
  std::string name;
  std::string namespace_;
  STASH_APIS_STRUCT(Subject);
};
STASH_APIS_DECLARE_CODEC(Subject);

struct RoleRef {
  std::string api_group;
  std::string kind;
  std::string name;
  STASH_APIS_STRUCT(RoleRef);
};
STASH_APIS_DECLARE_CODEC(RoleRef);

struct RoleBinding {
  static const kube::Resource& Resource();
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::vector<Subject> subjects;
  RoleRef role_ref;
  STASH_APIS_STRUCT(RoleBinding);
};
STASH_APIS_DECLARE_CODEC(RoleBinding);

}  // namespace stash::apis
