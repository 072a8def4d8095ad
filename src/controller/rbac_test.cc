#include "stash/controller/rbac.h"

#include <gtest/gtest.h>

namespace stash::controller {
namespace {

RbacOwner Guide() {
  return {"stash.appscode.com/v1beta1", "BackupConfiguration", "demo", "pause-backup", "u-1"};
}

// The rules of `role` that name `resource`.
std::vector<json> RulesFor(const json& role, const std::string& resource) {
  std::vector<json> out;
  for (const json& r : role["rules"]) {
    for (const json& res : r["resources"]) {
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
  const json& role = o.roles[0];
  EXPECT_EQ(role["metadata"]["name"], "stash-backup-pause-backup");
  EXPECT_EQ(role["metadata"]["namespace"], "demo");
  EXPECT_EQ(role["metadata"]["ownerReferences"][0]["uid"], "u-1");
  auto secrets = RulesFor(role, "secrets");
  ASSERT_EQ(secrets.size(), 1u);
  EXPECT_EQ(secrets[0]["verbs"], json::array({"get"}));
  EXPECT_EQ(secrets[0]["resourceNames"], json::array({"gcs-secret"}));
  auto sessions = RulesFor(role, "backupsessions");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0]["verbs"], json::array({"get", "list", "watch", "create", "delete"}));
  EXPECT_EQ(RulesFor(role, "backupsessions/status").size(), 1u);
  EXPECT_EQ(RulesFor(role, "repositories")[0]["resourceNames"], json::array({"gcs-repo"}));
  EXPECT_EQ(RulesFor(role, "leases").size(), 2u);
  EXPECT_EQ(RulesFor(role, "events")[0]["verbs"], json::array({"list", "create", "patch"}));
  EXPECT_EQ(RulesFor(role, "deployments")[0]["resourceNames"], json::array({"stash-demo"}));
  EXPECT_EQ(RulesFor(role, "deployments")[0]["verbs"], json::array({"get"}));
  for (const json& r : role["rules"]) {
    for (const json& v : r["verbs"]) EXPECT_NE(v, "*");
    for (const json& v : r["resources"]) EXPECT_NE(v, "*");
  }
  // The workload's account (default) and the trigger's are bound; the
  // trigger's is made.
  const json& b = o.role_bindings[0];
  EXPECT_EQ(b["roleRef"]["name"], "stash-backup-pause-backup");
  ASSERT_EQ(b["subjects"].size(), 2u);
  EXPECT_EQ(b["subjects"][0]["name"], "default");
  EXPECT_EQ(b["subjects"][1]["name"], "stash-trigger-pause-backup");
  ASSERT_EQ(o.service_accounts.size(), 1u);
  EXPECT_EQ(o.service_accounts[0]["metadata"]["name"], "stash-trigger-pause-backup");
}

TEST(Rbac, ARepositoryInAnotherNamespaceGetsItsOwnRoleWithoutOwnerReference) {
  RbacObjects o = BackupRbac(Guide(), "app-sa", "stash-trigger-pause-backup", "repos", "shared",
                             "shared-secret", "deployments", "stash-demo");
  ASSERT_EQ(o.roles.size(), 2u);
  EXPECT_TRUE(RulesFor(o.roles[0], "secrets").empty());
  const json& there = o.roles[1];
  EXPECT_EQ(there["metadata"]["namespace"], "repos");
  EXPECT_EQ(there["metadata"]["name"], "stash-backup-pause-backup-demo");
  EXPECT_FALSE(there["metadata"].contains("ownerReferences"));
  EXPECT_EQ(RulesFor(there, "secrets")[0]["resourceNames"], json::array({"shared-secret"}));
  // Subjects stay in the owner's namespace.
  EXPECT_EQ(o.role_bindings[1]["subjects"][0]["namespace"], "demo");
  EXPECT_EQ(o.role_bindings[1]["subjects"][0]["name"], "app-sa");
}

TEST(Rbac, RestoreRoleReadsItsOwnSessionAndBindsTheJobsAccount) {
  RbacOwner rs{"stash.appscode.com/v1beta1", "RestoreSession", "demo", "restore-1", "u-2"};
  RbacObjects jobs = RestoreRbac(rs, "", "demo", "gcs-repo", "gcs-secret", false);
  ASSERT_EQ(jobs.role_bindings.size(), 1u);
  ASSERT_EQ(jobs.role_bindings[0]["subjects"].size(), 1u);
  EXPECT_EQ(jobs.role_bindings[0]["subjects"][0]["name"], RestoreJobServiceAccount("restore-1"));
  const json& role = jobs.roles[0];
  EXPECT_EQ(role["metadata"]["name"], "stash-restore-restore-1");
  EXPECT_EQ(RulesFor(role, "restoresessions")[0]["resourceNames"], json::array({"restore-1"}));
  EXPECT_TRUE(RulesFor(role, "backupsessions").empty());
  EXPECT_TRUE(RulesFor(role, "repositories/status").empty());
  RbacObjects init = RestoreRbac(rs, "", "demo", "gcs-repo", "gcs-secret", true);
  EXPECT_EQ(init.role_bindings[0]["subjects"][1]["name"], "default");
}

}  // namespace
}  // namespace stash::controller
