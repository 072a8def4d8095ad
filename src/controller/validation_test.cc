#include "stash/controller/validation.h"

#include <gtest/gtest.h>

namespace stash::controller {
namespace {

using json = nlohmann::json;

json GuideSpec() {
  return json::parse(R"({
    "repository": {"name": "gcs-repo"},
    "schedule": "*/5 * * * *",
    "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
               "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
               "paths": ["/source/data"]},
    "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true}})");
}

std::shared_ptr<const api::AdmissionPlugin> Plugin(const std::string& resource) {
  for (const auto& p : StashAdmissionPlugins()) {
    if (p->Handles("stash.appscode.com", resource)) return p;
  }
  return nullptr;
}

api::AdmissionRequest Request(const std::string& resource, json object, json old = nullptr) {
  api::AdmissionRequest r;
  r.operation = old.is_null() ? "CREATE" : "UPDATE";
  r.group = "stash.appscode.com";
  r.resource = resource;
  r.ns = "demo";
  r.object = std::move(object);
  r.old_object = std::move(old);
  return r;
}

TEST(Validation, TheGuidesBackupConfigurationIsValid) {
  EXPECT_TRUE(ValidateBackupConfigurationSpec(GuideSpec()).empty());
}

TEST(Validation, ScheduleProblemsNameTheValueAndTheParsersReason) {
  json spec = GuideSpec();
  spec["schedule"] = "61 * * * *";
  EXPECT_EQ(ValidateBackupConfigurationSpec(spec),
            std::vector<std::string>{
                "spec.schedule 61 * * * * is invalid. Reason: minute: value 61 out of range 0-59"});
  spec["schedule"] = "@hourly";
  EXPECT_TRUE(ValidateBackupConfigurationSpec(spec).empty());
  spec["schedule"] = "*/2 * * * * *";  // the seconds extension the operator schedules
  EXPECT_TRUE(ValidateBackupConfigurationSpec(spec).empty());
  spec.erase("schedule");
  ASSERT_EQ(ValidateBackupConfigurationSpec(spec).size(), 1u);
  EXPECT_EQ(ValidateBackupConfigurationSpec(spec)[0].rfind("spec.schedule is required", 0), 0u);
}

TEST(Validation, EveryProblemIsReported) {
  json spec = GuideSpec();
  spec["retentionPolicy"]["keepDaily"] = -3;
  spec["target"]["ref"]["kind"] = "Pod";
  spec["repository"].erase("name");
  auto problems = ValidateBackupConfigurationSpec(spec);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].rfind("spec.target.ref.kind Pod is invalid. Reason: ", 0), 0u);
  EXPECT_EQ(problems[1].rfind("spec.repository.name is required", 0), 0u);
  EXPECT_EQ(problems[2],
            "spec.retentionPolicy.keepDaily -3 is invalid. Reason: must be a number of snapshots, "
            "0 or more");
}

TEST(Validation, RepositoryBackends) {
  json local = {{"backend",
                 {{"local", {{"mountPath", "/safe"}, {"hostPath", {{"path", "/r"}}}}},
                  {"storageSecretName", "s"}}}};
  EXPECT_TRUE(ValidateRepositorySpec(local).empty());
  json wipe = local;
  wipe["wipeOut"] = true;
  EXPECT_EQ(ValidateRepositorySpec(wipe),
            std::vector<std::string>{"wipe out operation is not supported for local backend"});
  json none = {{"backend", {{"storageSecretName", "s"}}}};
  ASSERT_EQ(ValidateRepositorySpec(none).size(), 1u);
  EXPECT_NE(ValidateRepositorySpec(none)[0].find("exactly one of"), std::string::npos);
  json b2 = {{"backend", {{"b2", {{"bucket", "x"}}}}}};
  ASSERT_EQ(ValidateRepositorySpec(b2).size(), 1u);
  EXPECT_NE(ValidateRepositorySpec(b2)[0].find("not supported"), std::string::npos);
}

TEST(Validation, BackupConfigurationPluginRulesOfStashsWebhook) {
  auto plugin = Plugin("backupconfigurations");
  ASSERT_TRUE(plugin);
  json bc = {{"metadata", {{"name", "b"}, {"namespace", "demo"}}}, {"spec", GuideSpec()}};
  EXPECT_TRUE(plugin->Review(Request("backupconfigurations", bc)).allowed);
  // Target changes of a Ready BackupConfiguration are refused.
  json ready = bc;
  ready["status"]["phase"] = "Ready";
  json moved = bc;
  moved["spec"]["target"]["ref"]["name"] = "other";
  auto v = plugin->Review(Request("backupconfigurations", moved, ready));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message, "updating target is forbidden when BackupConfiguration is in READY state");
  // A legacy invalid object may still be finished with (finalizers, labels).
  json legacy = bc;
  legacy["spec"]["schedule"] = "61 * * * *";
  json labelled = legacy;
  labelled["metadata"]["labels"]["a"] = "b";
  EXPECT_TRUE(plugin->Review(Request("backupconfigurations", labelled, legacy)).allowed);
  json other_ns = bc;
  other_ns["spec"]["target"]["ref"]["namespace"] = "elsewhere";
  v = plugin->Review(Request("backupconfigurations", other_ns));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message, "cross-namespace target reference is not allowed for \"Deployment\"");
}

TEST(Validation, UsagePolicyOfACrossNamespaceRepository) {
  auto plugin = Plugin("backupconfigurations");
  json bc = {{"metadata", {{"name", "b"}, {"namespace", "demo"}}}, {"spec", GuideSpec()}};
  bc["spec"]["repository"] = {{"name", "shared"}, {"namespace", "backups"}};
  json policy = json::object();
  api::AdmissionRequest r = Request("backupconfigurations", bc);
  r.lookup = [&](const std::string& group, const std::string& resource, const std::string& ns,
                 const std::string& name) -> std::optional<json> {
    if (resource == "repositories" && ns == "backups" && name == "shared") {
      return json{{"spec", {{"usagePolicy", policy}}}};
    }
    if (group.empty() && resource == "namespaces") {
      return json{{"metadata", {{"name", name}, {"labels", {{"team", "a"}}}}}};
    }
    return std::nullopt;
  };
  auto v = plugin->Review(r);
  EXPECT_FALSE(v.allowed);  // default: Same namespace only
  EXPECT_EQ(v.message,
            "namespace \"demo\" is not allowed to refer Repository \"shared\" of \"backups\" "
            "namespace. Please, check the `usagePolicy` of the Repository");
  policy = {{"allowedNamespaces",
             {{"from", "Selector"}, {"selector", {{"matchLabels", {{"team", "a"}}}}}}}};
  EXPECT_TRUE(plugin->Review(r).allowed);
  policy = {{"allowedNamespaces", {{"from", "All"}}}};
  EXPECT_TRUE(plugin->Review(r).allowed);
}

TEST(Validation, BackupSessionSpecIsImmutableButStatusIsNot) {
  auto plugin = Plugin("backupsessions");
  json bs = {{"metadata", {{"name", "s"}}}, {"spec", {{"invoker", {{"name", "a"}}}}}};
  json changed = bs;
  changed["spec"]["invoker"]["name"] = "b";
  EXPECT_EQ(plugin->Review(Request("backupsessions", changed, bs)).message,
            "BackupSession spec is immutable");
  json status = bs;
  status["status"]["phase"] = "Running";
  EXPECT_TRUE(plugin->Review(Request("backupsessions", status, bs)).allowed);
}

}  // namespace
}  // namespace stash::controller
