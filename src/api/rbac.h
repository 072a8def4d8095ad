// RbacAuthorizer: Kubernetes RBAC (Role, ClusterRole, RoleBinding,
// ClusterRoleBinding of rbac.authorization.k8s.io/v1) evaluated against an
// index that follows the store's writes, so a decision costs lookups of the
// user's and groups' bindings and a scan of the few rules they grant — never
// a pass over the objects. Members of system:masters are allowed everything
// first, as kube-apiserver's privileged-group authorizer does.
//
// The index keeps, per subject ("u:<user>" for Users and ServiceAccounts,
// "g:<group>" for Groups), the bindings that name it, and per role its
// compiled rules; ServiceAccount UIDs are kept too, for token validation.
//
// Thread-safety: Apply (one writer at a time, called from the store's write
// hook) and the readers may run concurrently; a shared mutex guards the index.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth_types.h"

namespace stash::api {

struct Decision {
  bool allowed = false;
  // Why: which binding allowed it, or what failed to resolve (RBAC: ...).
  std::string reason;
};

// One rule as Kubernetes writes it; "*" matches everything.
struct CompiledRule {
  std::vector<std::string> verbs, api_groups, resources, resource_names, non_resource_urls;
  bool Matches(const Attributes& a) const;
};

class RbacAuthorizer {
 public:
  // The store keys of the objects the index follows.
  static constexpr const char* kRoles = "rbac.authorization.k8s.io/roles";
  static constexpr const char* kClusterRoles = "rbac.authorization.k8s.io/clusterroles";
  static constexpr const char* kRoleBindings = "rbac.authorization.k8s.io/rolebindings";
  static constexpr const char* kClusterRoleBindings =
      "rbac.authorization.k8s.io/clusterrolebindings";
  static constexpr const char* kServiceAccounts = "/serviceaccounts";

  // Feeds one stored object (deleted: it is gone). Other resources are ignored.
  void Apply(const std::string& resource, const std::string& ns, const nlohmann::json& object,
             bool deleted);

  Decision Authorize(const UserInfo& user, const Attributes& attrs) const;
  // Every rule that applies to `user` in `ns` (cluster bindings included), for
  // SelfSubjectRulesReview; *incomplete is set when a binding's role is missing.
  std::vector<CompiledRule> RulesFor(const UserInfo& user, const std::string& ns,
                                     std::string* errors) const;
  // The UID of ServiceAccount ns/name, if it exists.
  std::optional<std::string> ServiceAccountUid(const std::string& ns,
                                               const std::string& name) const;

 private:
  struct Binding {
    std::string ns;  // "" for a ClusterRoleBinding
    std::string name;
    bool cluster_role = false;  // roleRef kind
    std::string role;           // roleRef name
    std::string subject_desc;   // for reasons: `User "x"`
  };
  struct Role {
    std::vector<CompiledRule> rules;
  };
  using BindingList = std::vector<std::shared_ptr<const Binding>>;

  // Calls fn(binding, role or nullptr) for each binding of the user's subjects
  // that applies in `ns`; stops when fn returns true.
  template <typename Fn>
  void Visit(const UserInfo& user, const std::string& ns, Fn&& fn) const;
  void RemoveBinding(const std::string& key);

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Role>> roles_;  // "ns/name", "/name"
  std::unordered_map<std::string, BindingList> by_subject_;
  // binding key "ns/name" → subject keys it was indexed under
  std::unordered_map<std::string, std::vector<std::string>> binding_subjects_;
  std::unordered_map<std::string, std::string> sa_uids_;  // "ns/name" → uid
};

// The rules of a Role/ClusterRole object.
std::vector<CompiledRule> CompileRules(const nlohmann::json& rules);
nlohmann::json RuleToJson(const CompiledRule& rule);

}  // namespace stash::api
