#include "stash/controller/rbac.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

const kube::Resource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount"};
const kube::Resource kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role"};
const kube::Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                   "RoleBinding"};

constexpr std::string_view kLabelInvokerNamespace = "stash.appscode.com/invoker-namespace";

std::string S(std::string_view v) { return std::string(v); }

// Object names are DNS subdomains (253), ServiceAccounts' too; keep within.
std::string Capped(std::string name, size_t max = 253) {
  if (name.size() > max) name.resize(max);
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name;
}

json Rule(std::string group, std::string resource, std::vector<std::string> verbs,
          std::vector<std::string> names = {}) {
  json r = {{"apiGroups", json::array({group})},
            {"resources", json::array({resource})},
            {"verbs", verbs}};
  if (!names.empty()) r["resourceNames"] = names;
  return r;
}

json Meta(const RbacOwner& owner, const std::string& ns, const std::string& name) {
  json labels = {{S(kube::kLabelManagedBy), S(kube::kManagedByValue)},
                 {S(kube::kLabelInvokerType), owner.kind},
                 {S(kube::kLabelInvokerName), owner.name},
                 {S(kLabelInvokerNamespace), owner.ns}};
  json meta = {{"name", name}, {"namespace", ns}, {"labels", labels}};
  // Owner references cannot cross namespaces; RemoveRbac deletes those.
  if (ns == owner.ns && !owner.uid.empty()) {
    meta["ownerReferences"] = json::array({{{"apiVersion", owner.api_version},
                                            {"kind", owner.kind},
                                            {"name", owner.name},
                                            {"uid", owner.uid},
                                            {"controller", true},
                                            {"blockOwnerDeletion", false}}});
  }
  return meta;
}

// The name of the owner's objects in `ns`: its own namespace's, or the
// Repository's (where several owners' namespaces may meet).
std::string NameIn(const RbacOwner& owner, const std::string& ns) {
  return ns == owner.ns ? RbacName(owner) : Capped(RbacName(owner) + "-" + owner.ns);
}

json Role(const RbacOwner& owner, const std::string& ns, json rules) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", Meta(owner, ns, NameIn(owner, ns))},
          {"rules", std::move(rules)}};
}

json Binding(const RbacOwner& owner, const std::string& ns,
             const std::vector<std::string>& accounts) {
  json subjects = json::array();
  for (const std::string& a : accounts) {
    json s = {
        {"kind", "ServiceAccount"}, {"name", a.empty() ? "default" : a}, {"namespace", owner.ns}};
    if (std::find(subjects.begin(), subjects.end(), s) == subjects.end()) subjects.push_back(s);
  }
  return {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", Meta(owner, ns, NameIn(owner, ns))},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", NameIn(owner, ns)}}},
      {"subjects", subjects}};
}

json Account(const RbacOwner& owner, const std::string& name) {
  return {
      {"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", Meta(owner, owner.ns, name)}};
}

// The Repository's part: read it, record its status, read its Secret.
void AddRepositoryRules(json* rules, const std::string& repo, const std::string& secret,
                        bool status) {
  rules->push_back(Rule("stash.appscode.com", "repositories", {"get"}, {repo}));
  if (status)
    rules->push_back(Rule("stash.appscode.com", "repositories/status", {"patch"}, {repo}));
  if (!secret.empty()) rules->push_back(Rule("", "secrets", {"get"}, {secret}));
}

// Puts the rules and binding of one namespace into `out`.
void AddNamespace(RbacObjects* out, const RbacOwner& owner, const std::string& ns, json rules,
                  const std::vector<std::string>& accounts) {
  out->roles.push_back(Role(owner, ns, std::move(rules)));
  out->role_bindings.push_back(Binding(owner, ns, accounts));
}

// Create, or bring an existing object's `fields` to the desired ones.
Status Apply(const kube::Client& client, const kube::Resource& r, const json& desired,
             const std::vector<std::string>& fields) {
  const std::string ns = desired["metadata"].value("namespace", "");
  const std::string name = desired["metadata"].value("name", "");
  const std::string id = r.kind + " " + ns + "/" + name;
  auto created = client.Create(r, ns, desired);
  if (created.ok()) return Status::Ok();
  if (created.status().code() != Code::kAlreadyExists) {
    return Status(created.status().code(), "creating " + id + ": " + created.status().message());
  }
  auto existing = client.Get(r, ns, name);
  if (!existing.ok()) {
    return Status(existing.status().code(), "reading " + id + ": " + existing.status().message());
  }
  json merged = *existing;
  for (const std::string& f : fields) merged[f] = desired.value(f, json());
  if (r.kind == "RoleBinding" && merged["roleRef"] != (*existing)["roleRef"]) {
    // roleRef cannot change: replace the binding.
    Status d = client.Delete(r, ns, name);
    if (!d.ok() && d.code() != Code::kNotFound) return d;
    return Apply(client, r, desired, fields);
  }
  if (merged == *existing) return Status::Ok();
  auto updated = client.Update(r, ns, merged);
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
  json rules = json::array({
      // LeaderLease: one replica of the workload backs up.
      Rule("coordination.k8s.io", "leases", {"create"}),
      Rule("coordination.k8s.io", "leases", {"get", "update"}, {lease}),
      Rule("stash.appscode.com", "backupconfigurations", {"get"}, {bc.name}),
      // The sidecar watches, runs and prunes sessions; the trigger creates them.
      Rule("stash.appscode.com", "backupsessions", {"get", "list", "watch", "create", "delete"}),
      Rule("stash.appscode.com", "backupsessions/status", {"patch"}),
      // A tick while the workload is being restored takes no backup.
      Rule("stash.appscode.com", "restoresessions", {"list"}),
      // kube::EventRecorder: repeats are found and patched.
      Rule("", "events", {"list", "create", "patch"}),
  });
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
    json repo_rules = json::array();
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
  json rules = json::array({
      // A StatefulSet's hosts take one Lease each: not named in advance.
      Rule("coordination.k8s.io", "leases", {"create", "get", "update"}),
      Rule("stash.appscode.com", "restoresessions", {"get"}, {rs.name}),
      Rule("stash.appscode.com", "restoresessions/status", {"patch"}, {rs.name}),
      Rule("", "events", {"list", "create", "patch"}),
  });
  std::vector<std::string> accounts = {job_account};
  if (init_container) accounts.push_back(workload_account);
  if (repo_ns == rs.ns) {
    AddRepositoryRules(&rules, repo, secret, false);
    AddNamespace(&out, rs, rs.ns, std::move(rules), accounts);
  } else {
    AddNamespace(&out, rs, rs.ns, std::move(rules), accounts);
    json repo_rules = json::array();
    AddRepositoryRules(&repo_rules, repo, secret, false);
    AddNamespace(&out, rs, repo_ns, std::move(repo_rules), accounts);
  }
  return out;
}

Status EnsureRbac(const kube::Client& client, const RbacObjects& objects) {
  for (const json& sa : objects.service_accounts) {
    const std::string ns = sa["metadata"].value("namespace", "");
    auto created = client.Create(kServiceAccounts, ns, sa);
    if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
      return Status(created.status().code(), "creating ServiceAccount " + ns + "/" +
                                                 sa["metadata"].value("name", "") + ": " +
                                                 created.status().message());
    }
  }
  // Roles before their bindings: a binding to a Role not there yet grants nothing.
  for (const json& r : objects.roles) STASH_RETURN_IF_ERROR(Apply(client, kRoles, r, {"rules"}));
  for (const json& b : objects.role_bindings) {
    STASH_RETURN_IF_ERROR(Apply(client, kRoleBindings, b, {"roleRef", "subjects"}));
  }
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
    STASH_RETURN_IF_ERROR(remove(kRoleBindings, ns, NameIn(owner, ns)));
    STASH_RETURN_IF_ERROR(remove(kRoles, ns, NameIn(owner, ns)));
  }
  return Status::Ok();
}

}  // namespace stash::controller
