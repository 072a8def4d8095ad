#include "stash/controller/rbac.h"

#include <gtest/gtest.h>

namespace stash::controller {
namespace {

using apis::PolicyRule;
using Names = std::vector<std::string>;

RbacOwner Guide() {
  return {"stash.appscode.com/v1beta1", "BackupConfiguration", "demo", "pause-backup", "u-1"};
}

// The rules of `role` that name `resource`.
std::vector<PolicyRule> RulesFor(const apis::Role& role, const std::string& resource) {
  std::vector<PolicyRule> out;
  for (const PolicyRule& r : role.rules) {
    for (const std::string& res : r.resources) {
      if (res == resource) out.push_back(r);
    }
  }
  return out;
}

TEST(Rbac, BackupRoleGrantsWhatTheSidecarAndTriggerCallAndOnlyTheRepositorysSecret) {
  RbacObjects o = BackupRbac(Guide(), "", "stash-trigger-pause-backup", "demo", "gcs-repo",
                             "gcs-secret", "deployments", "stash-demo");
  ASSERT_EQ(o.roles.size(), 1u);
  ASSERT_EQ(o.role_bindings.size(), 1u);
  const apis::Role& role = o.roles[0];
  EXPECT_EQ(role.metadata.name, "stash-backup-pause-backup");
  EXPECT_EQ(role.metadata.namespace_, "demo");
  ASSERT_EQ(role.metadata.owner_references.size(), 1u);
  EXPECT_EQ(role.metadata.owner_references[0].uid, "u-1");
  auto secrets = RulesFor(role, "secrets");
  ASSERT_EQ(secrets.size(), 1u);
  EXPECT_EQ(secrets[0].verbs, Names({"get"}));
  EXPECT_EQ(secrets[0].resource_names, Names({"gcs-secret"}));
  auto sessions = RulesFor(role, "backupsessions");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].verbs, Names({"get", "list", "watch", "create", "delete"}));
  EXPECT_EQ(RulesFor(role, "backupsessions/status").size(), 1u);
  auto invoker = RulesFor(role, "backupconfigurations");
  ASSERT_EQ(invoker.size(), 1u);  // the sidecar's cache of its own, by name
  EXPECT_EQ(invoker[0].verbs, Names({"get", "list", "watch"}));
  EXPECT_EQ(invoker[0].resource_names, Names({"pause-backup"}));
  // Its own status only (the sidecar's condition), by name.
  auto invoker_status = RulesFor(role, "backupconfigurations/status");
  ASSERT_EQ(invoker_status.size(), 1u);
  EXPECT_EQ(invoker_status[0].verbs, Names({"patch"}));
  EXPECT_EQ(invoker_status[0].resource_names, Names({"pause-backup"}));
  EXPECT_EQ(RulesFor(role, "repositories").at(0).resource_names, Names({"gcs-repo"}));
  EXPECT_EQ(RulesFor(role, "leases").size(), 2u);
  EXPECT_EQ(RulesFor(role, "events").at(0).verbs, Names({"list", "create", "patch"}));
  EXPECT_EQ(RulesFor(role, "deployments").at(0).resource_names, Names({"stash-demo"}));
  EXPECT_EQ(RulesFor(role, "deployments").at(0).verbs, Names({"get"}));
  for (const PolicyRule& r : role.rules) {
    for (const std::string& v : r.verbs) EXPECT_NE(v, "*");
    for (const std::string& v : r.resources) EXPECT_NE(v, "*");
  }
  // As the API server reads it: rbac's group, the members' Kubernetes names.
  apis::json written = apis::ToJson(role);
  EXPECT_EQ(written.value("apiVersion", ""), "rbac.authorization.k8s.io/v1");
  EXPECT_EQ(written.at("rules").at(0).count("apiGroups"), 1u);
  // The workload's account (default) and the trigger's are bound; the
  // trigger's is made.
  const apis::RoleBinding& b = o.role_bindings[0];
  EXPECT_EQ(b.role_ref.name, "stash-backup-pause-backup");
  EXPECT_EQ(b.role_ref.api_group, "rbac.authorization.k8s.io");
  ASSERT_EQ(b.subjects.size(), 2u);
  EXPECT_EQ(b.subjects[0].name, "default");
  EXPECT_EQ(b.subjects[1].name, "stash-trigger-pause-backup");
  ASSERT_EQ(o.service_accounts.size(), 1u);
  EXPECT_EQ(o.service_accounts[0].metadata.name, "stash-trigger-pause-backup");
}

TEST(Rbac, ARepositoryInAnotherNamespaceGetsItsOwnRoleWithoutOwnerReference) {
  RbacObjects o = BackupRbac(Guide(), "app-sa", "stash-trigger-pause-backup", "repos", "shared",
                             "shared-secret", "deployments", "stash-demo");
  ASSERT_EQ(o.roles.size(), 2u);
  EXPECT_TRUE(RulesFor(o.roles[0], "secrets").empty());
  const apis::Role& there = o.roles[1];
  EXPECT_EQ(there.metadata.namespace_, "repos");
  EXPECT_EQ(there.metadata.name, "stash-backup-pause-backup-demo");
  EXPECT_TRUE(there.metadata.owner_references.empty());
  EXPECT_EQ(RulesFor(there, "secrets").at(0).resource_names, Names({"shared-secret"}));
  // Subjects stay in the owner's namespace.
  ASSERT_EQ(o.role_bindings.size(), 2u);
  ASSERT_FALSE(o.role_bindings[1].subjects.empty());
  EXPECT_EQ(o.role_bindings[1].subjects[0].namespace_, "demo");
  EXPECT_EQ(o.role_bindings[1].subjects[0].name, "app-sa");
}

TEST(Rbac, RestoreRoleReadsItsOwnSessionAndBindsTheJobsAccount) {
  RbacOwner rs{"stash.appscode.com/v1beta1", "RestoreSession", "demo", "restore-1", "u-2"};
  RbacObjects jobs = RestoreRbac(rs, "", "demo", "gcs-repo", "gcs-secret", false);
  ASSERT_EQ(jobs.role_bindings.size(), 1u);
  ASSERT_EQ(jobs.role_bindings[0].subjects.size(), 1u);
  EXPECT_EQ(jobs.role_bindings[0].subjects[0].name, RestoreJobServiceAccount("restore-1"));
  const apis::Role& role = jobs.roles.at(0);
  EXPECT_EQ(role.metadata.name, "stash-restore-restore-1");
  EXPECT_EQ(RulesFor(role, "restoresessions").at(0).resource_names, Names({"restore-1"}));
  EXPECT_TRUE(RulesFor(role, "backupsessions").empty());
  EXPECT_TRUE(RulesFor(role, "repositories/status").empty());
  RbacObjects init = RestoreRbac(rs, "", "demo", "gcs-repo", "gcs-secret", true);
  ASSERT_EQ(init.role_bindings.at(0).subjects.size(), 2u);
  EXPECT_EQ(init.role_bindings[0].subjects[1].name, "default");
}

}  // namespace
}  // namespace stash::controller
