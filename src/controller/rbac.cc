#include "stash/controller/rbac.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <type_traits>

#include "stash/apis/client.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

using apis::PolicyRule;
using apis::Role;
using apis::RoleBinding;
using apis::ServiceAccount;

constexpr std::string_view kLabelInvokerNamespace = "stash.appscode.com/invoker-namespace";
constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

std::string S(std::string_view v) { return std::string(v); }

// Object names are DNS subdomains (253), ServiceAccounts' too; keep within.
std::string Capped(std::string name, size_t max = 253) {
  if (name.size() > max) name.resize(max);
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name;
}

PolicyRule Rule(std::string group, std::string resource, std::vector<std::string> verbs,
                std::vector<std::string> names = {}) {
  PolicyRule r;
  r.api_groups = {std::move(group)};
  r.resources = {std::move(resource)};
  r.verbs = std::move(verbs);
  r.resource_names = std::move(names);
  return r;
}

apis::ObjectMeta Meta(const RbacOwner& owner, const std::string& ns, const std::string& name) {
  apis::ObjectMeta meta;
  meta.name = name;
  meta.namespace_ = ns;
  meta.labels = {{S(kube::kLabelManagedBy), S(kube::kManagedByValue)},
                 {S(kube::kLabelInvokerType), owner.kind},
                 {S(kube::kLabelInvokerName), owner.name},
                 {S(kLabelInvokerNamespace), owner.ns}};
  // Owner references cannot cross namespaces; RemoveRbac deletes those.
  if (ns == owner.ns && !owner.uid.empty()) {
    apis::OwnerReference ref;
    ref.api_version = owner.api_version;
    ref.kind = owner.kind;
    ref.name = owner.name;
    ref.uid = owner.uid;
    ref.controller = true;
    ref.block_owner_deletion = false;
    meta.owner_references = {ref};
  }
  return meta;
}

// The name of the owner's objects in `ns`: its own namespace's, or the
// Repository's (where several owners' namespaces may meet).
std::string NameIn(const RbacOwner& owner, const std::string& ns) {
  return ns == owner.ns ? RbacName(owner) : Capped(RbacName(owner) + "-" + owner.ns);
}

Role MakeRole(const RbacOwner& owner, const std::string& ns, std::vector<PolicyRule> rules) {
  Role r;
  r.api_version = Role::Resource().ApiVersion();
  r.kind = Role::Resource().kind;
  r.metadata = Meta(owner, ns, NameIn(owner, ns));
  r.rules = std::move(rules);
  return r;
}

RoleBinding Binding(const RbacOwner& owner, const std::string& ns,
                    const std::vector<std::string>& accounts) {
  RoleBinding b;
  b.api_version = RoleBinding::Resource().ApiVersion();
  b.kind = RoleBinding::Resource().kind;
  b.metadata = Meta(owner, ns, NameIn(owner, ns));
  b.role_ref.api_group = S(kRbacGroup);
  b.role_ref.kind = "Role";
  b.role_ref.name = NameIn(owner, ns);
  for (const std::string& a : accounts) {
    apis::Subject s;
    s.kind = "ServiceAccount";
    s.name = a.empty() ? "default" : a;
    s.namespace_ = owner.ns;
    if (std::find(b.subjects.begin(), b.subjects.end(), s) == b.subjects.end()) {
      b.subjects.push_back(s);
    }
  }
  return b;
}

ServiceAccount Account(const RbacOwner& owner, const std::string& name) {
  ServiceAccount sa;
  sa.api_version = "v1";
  sa.kind = "ServiceAccount";
  sa.metadata = Meta(owner, owner.ns, name);
  return sa;
}

// The Repository's part: read it, record its status, read its Secret.
void AddRepositoryRules(std::vector<PolicyRule>* rules, const std::string& repo,
                        const std::string& secret, bool status) {
  rules->push_back(Rule("stash.appscode.com", "repositories", {"get"}, {repo}));
  if (status)
    rules->push_back(Rule("stash.appscode.com", "repositories/status", {"patch"}, {repo}));
  if (!secret.empty()) rules->push_back(Rule("", "secrets", {"get"}, {secret}));
}

// Puts the rules and binding of one namespace into `out`.
void AddNamespace(RbacObjects* out, const RbacOwner& owner, const std::string& ns,
                  std::vector<PolicyRule> rules, const std::vector<std::string>& accounts) {
  out->roles.push_back(MakeRole(owner, ns, std::move(rules)));
  out->role_bindings.push_back(Binding(owner, ns, accounts));
}

// Brings `existing`'s granted part to `desired`'s; whether it changed.
bool Merge(const Role& desired, Role* existing) {
  if (existing->rules == desired.rules) return false;
  existing->rules = desired.rules;
  return true;
}
bool Merge(const RoleBinding& desired, RoleBinding* existing) {
  if (existing->subjects == desired.subjects && existing->role_ref == desired.role_ref) {
    return false;
  }
  existing->subjects = desired.subjects;
  existing->role_ref = desired.role_ref;
  return true;
}

// Create, or bring an existing object's grant to the desired one.
template <class T>
Status Apply(const kube::Client& client, const T& desired) {
  const std::string id = apis::Describe(desired);
  auto created = apis::Create(client, desired);
  if (created.ok()) return Status::Ok();
  if (created.status().code() != Code::kAlreadyExists) {
    return Status(created.status().code(), "creating " + id + ": " + created.status().message());
  }
  auto existing = apis::Get<T>(client, desired.metadata.namespace_, desired.metadata.name);
  if (!existing.ok()) {
    return Status(existing.status().code(), "reading " + id + ": " + existing.status().message());
  }
  T merged = *existing;
  if constexpr (std::is_same_v<T, RoleBinding>) {
    if (existing->role_ref != desired.role_ref) {
      // roleRef cannot change: replace the binding.
      Status d = apis::Delete<T>(client, desired.metadata.namespace_, desired.metadata.name);
      if (!d.ok() && d.code() != Code::kNotFound) return d;
      return Apply(client, desired);
    }
  }
  if (!Merge(desired, &merged)) return Status::Ok();
  auto updated = apis::Update(client, merged);
  if (!updated.ok()) {
    return Status(updated.status().code(), "updating " + id + ": " + updated.status().message());
  }
  return Status::Ok();
}

}  // namespace

std::string RbacName(const RbacOwner& owner) {
  return Capped((owner.kind == "RestoreSession" ? "stash-restore-" : "stash-backup-") + owner.name);
}

std::string RestoreJobServiceAccount(std::string_view restore_session) {
  return Capped("stash-restore-" + std::string(restore_session));
}

RbacObjects BackupRbac(const RbacOwner& bc, const std::string& workload_account,
                       const std::string& trigger_account, const std::string& repo_ns,
                       const std::string& repo, const std::string& secret,
                       const std::string& target_resource, const std::string& target) {
  RbacObjects out;
  out.service_accounts.push_back(Account(bc, trigger_account));
  const std::string lease = "lock-backupconfiguration-" + bc.name + "-backup";
  std::vector<PolicyRule> rules = {
      // LeaderLease: one replica of the workload backs up.
      Rule("coordination.k8s.io", "leases", {"create"}),
      Rule("coordination.k8s.io", "leases", {"get", "update"}, {lease}),
      // The sidecar's cache of its BackupConfiguration (a list and watch
      // with fieldSelector metadata.name, authorized by name).
      Rule("stash.appscode.com", "backupconfigurations", {"get", "list", "watch"}, {bc.name}),
      // The sidecar's StashSidecarAuthorized condition: it alone knows which
      // of its calls the API server denied (agent/sidecar.h).
      Rule("stash.appscode.com", "backupconfigurations/status", {"patch"}, {bc.name}),
      // The sidecar watches, runs and prunes sessions; the trigger creates them.
      Rule("stash.appscode.com", "backupsessions", {"get", "list", "watch", "create", "delete"}),
      Rule("stash.appscode.com", "backupsessions/status", {"patch"}),
      // A tick while the workload is being restored takes no backup.
      Rule("stash.appscode.com", "restoresessions", {"list"}),
      // kube::EventRecorder: repeats are found and patched.
      Rule("", "events", {"list", "create", "patch"}),
  };
  // Backup hooks find the workload's containers.
  if (!target_resource.empty() && !target.empty()) {
    rules.push_back(Rule("apps", target_resource, {"get"}, {target}));
  }
  const std::vector<std::string> accounts = {workload_account, trigger_account};
  if (repo_ns == bc.ns) {
    AddRepositoryRules(&rules, repo, secret, true);
    AddNamespace(&out, bc, bc.ns, std::move(rules), accounts);
  } else {
    AddNamespace(&out, bc, bc.ns, std::move(rules), accounts);
    std::vector<PolicyRule> repo_rules;
    AddRepositoryRules(&repo_rules, repo, secret, true);
    AddNamespace(&out, bc, repo_ns, std::move(repo_rules), {workload_account});
  }
  return out;
}

RbacObjects RestoreRbac(const RbacOwner& rs, const std::string& workload_account,
                        const std::string& repo_ns, const std::string& repo,
                        const std::string& secret, bool init_container) {
  RbacObjects out;
  const std::string job_account = RestoreJobServiceAccount(rs.name);
  out.service_accounts.push_back(Account(rs, job_account));
  std::vector<PolicyRule> rules = {
      // A StatefulSet's hosts take one Lease each: not named in advance.
      Rule("coordination.k8s.io", "leases", {"create", "get", "update"}),
      Rule("stash.appscode.com", "restoresessions", {"get"}, {rs.name}),
      // Its host's stats, and the StashInitContainerAuthorized condition
      // naming a call the API server denied (agent/restore_init.h).
      Rule("stash.appscode.com", "restoresessions/status", {"patch"}, {rs.name}),
      Rule("", "events", {"list", "create", "patch"}),
  };
  std::vector<std::string> accounts = {job_account};
  if (init_container) accounts.push_back(workload_account);
  if (repo_ns == rs.ns) {
    AddRepositoryRules(&rules, repo, secret, false);
    AddNamespace(&out, rs, rs.ns, std::move(rules), accounts);
  } else {
    AddNamespace(&out, rs, rs.ns, std::move(rules), accounts);
    std::vector<PolicyRule> repo_rules;
    AddRepositoryRules(&repo_rules, repo, secret, false);
    AddNamespace(&out, rs, repo_ns, std::move(repo_rules), accounts);
  }
  return out;
}

Status EnsureRbac(const kube::Client& client, const RbacObjects& objects) {
  for (const ServiceAccount& sa : objects.service_accounts) {
    auto created = apis::Create(client, sa);
    if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
      return Status(created.status().code(),
                    "creating " + apis::Describe(sa) + ": " + created.status().message());
    }
  }
  // Roles before their bindings: a binding to a Role not there yet grants nothing.
  for (const Role& r : objects.roles) STASH_RETURN_IF_ERROR(Apply(client, r));
  for (const RoleBinding& b : objects.role_bindings) STASH_RETURN_IF_ERROR(Apply(client, b));
  return Status::Ok();
}

Status RemoveRbac(const kube::Client& client, const RbacOwner& owner,
                  const std::vector<std::string>& namespaces) {
  auto remove = [&](const kube::Resource& r, const std::string& ns, const std::string& name) {
    Status s = client.Delete(r, ns, name);
    if (s.ok() || s.code() == Code::kNotFound) return Status::Ok();
    return Status(s.code(), "deleting " + r.kind + " " + ns + "/" + name + ": " + s.message());
  };
  std::vector<std::string> done;
  for (const std::string& ns : namespaces) {
    if (ns.empty() || std::find(done.begin(), done.end(), ns) != done.end()) continue;
    done.push_back(ns);
    STASH_RETURN_IF_ERROR(remove(RoleBinding::Resource(), ns, NameIn(owner, ns)));
    STASH_RETURN_IF_ERROR(remove(Role::Resource(), ns, NameIn(owner, ns)));
  }
  return Status::Ok();
}

}  // namespace stash::controller
