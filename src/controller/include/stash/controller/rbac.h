// What stash's own pods may call, granted as Stash's operator grants it: for
// each BackupConfiguration and RestoreSession, a Role holding exactly the
// verbs its containers use (the backup sidecar and the trigger CronJob; the
// restore init container and restore Jobs), bound to the ServiceAccounts
// those pods run as — the workload's own, and one the operator makes for the
// CronJob or the Jobs. The Secret rule names the Repository's Secret only.
// Objects in the owner's namespace carry its ownerReference (the garbage
// collector removes them with it); where the Repository lives in another
// namespace, a second Role/RoleBinding there grants its part, labelled with
// the owner and removed by RemoveRbac from the owner's finalizer.
//
// The rules are derived from the calls in src/agent (sidecar.cc, trigger.cc,
// lease.cc, restore_init.cc, apis::EventRecorder); rbac_test.cc checks the
// set.
//
// Thread-safety: pure functions, and Ensure/Remove on a thread-safe Client.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stash/apis/core.h"
#include "stash/apis/rbac.h"
#include "stash/core/status.h"
#include "stash/kube/client.h"

namespace stash::controller {

// The owner of a set: a BackupConfiguration or a RestoreSession.
struct RbacOwner {
  std::string api_version, kind, ns, name, uid;
};

// The Roles, RoleBindings and ServiceAccounts one owner needs.
struct RbacObjects {
  std::vector<apis::ServiceAccount> service_accounts;
  std::vector<apis::Role> roles;
  std::vector<apis::RoleBinding> role_bindings;
};

// "stash-backup-<bc>" / "stash-restore-<rs>": the Role and RoleBinding name.
std::string RbacName(const RbacOwner& owner);
// The ServiceAccount a RestoreSession's Jobs run as (made by the operator).
std::string RestoreJobServiceAccount(std::string_view restore_session);

// For a BackupConfiguration: `workload_account` is the target pod template's
// serviceAccountName ("" = default), `trigger_account` the CronJob's
// (TriggerCronJobName; made by the operator), `repo_ns`/`repo`/`secret` the
// Repository and its storage Secret, `target_resource`/`target` the
// workload's plural ("deployments") and name (read by the hooks).
RbacObjects BackupRbac(const RbacOwner& bc, const std::string& workload_account,
                       const std::string& trigger_account, const std::string& repo_ns,
                       const std::string& repo, const std::string& secret,
                       const std::string& target_resource, const std::string& target);
// For a RestoreSession: the Jobs run as RestoreJobServiceAccount, and with
// `init_container` the target workload's pods as `workload_account`.
RbacObjects RestoreRbac(const RbacOwner& rs, const std::string& workload_account,
                        const std::string& repo_ns, const std::string& repo,
                        const std::string& secret, bool init_container);

// Creates what is missing and updates rules/subjects that differ.
Status EnsureRbac(const kube::Client& client, const RbacObjects& objects);
// Deletes the owner's objects in `namespaces` (its own and the Repository's).
Status RemoveRbac(const kube::Client& client, const RbacOwner& owner,
                  const std::vector<std::string>& namespaces);

}  // namespace stash::controller
