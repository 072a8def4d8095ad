#include "stash/controller/validation.h"

#include <gtest/gtest.h>

#include "stash/apis/codec.h"
#include "stash/apis/restore.h"
#include "stash/core/testing.h"

namespace stash::controller {
namespace {

using json = nlohmann::json;

template <class T>
T Decoded(const char* text) {
  auto v = apis::FromJson<T>(json::parse(text));
  EXPECT_OK(v);
  return v.ok() ? *v : T{};
}

apis::BackupConfigurationSpec GuideSpec() {
  return Decoded<apis::BackupConfigurationSpec>(R"({
    "repository": {"name": "gcs-repo"},
    "schedule": "*/5 * * * *",
    "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
               "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
               "paths": ["/source/data"]},
    "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true}})");
}

apis::BackupConfiguration GuideConfiguration() {
  apis::BackupConfiguration bc;
  bc.metadata.name = "b";
  bc.metadata.namespace_ = "demo";
  bc.spec = GuideSpec();
  return bc;
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
  apis::BackupConfigurationSpec spec = GuideSpec();
  spec.schedule = "61 * * * *";
  EXPECT_EQ(ValidateBackupConfigurationSpec(spec),
            std::vector<std::string>{
                "spec.schedule 61 * * * * is invalid. Reason: minute: value 61 out of range 0-59"});
  spec.schedule = "@hourly";
  EXPECT_TRUE(ValidateBackupConfigurationSpec(spec).empty());
  spec.schedule = "*/2 * * * * *";  // the seconds extension the operator schedules
  EXPECT_TRUE(ValidateBackupConfigurationSpec(spec).empty());
  spec.schedule.clear();
  ASSERT_EQ(ValidateBackupConfigurationSpec(spec).size(), 1u);
  EXPECT_EQ(ValidateBackupConfigurationSpec(spec)[0].rfind("spec.schedule is required", 0), 0u);
}

TEST(Validation, EveryProblemIsReported) {
  apis::BackupConfigurationSpec spec = GuideSpec();
  spec.retention_policy->keep_daily = -3;
  spec.retention_policy->keep_tags = {"weekly", ""};
  spec.target->ref.kind = "Pod";
  spec.target->paths.push_back("relative/dir");
  spec.repository.name.clear();
  auto problems = ValidateBackupConfigurationSpec(spec);
  ASSERT_EQ(problems.size(), 5u);
  EXPECT_EQ(problems[0].rfind("spec.target.ref.kind Pod is invalid. Reason: ", 0), 0u);
  EXPECT_EQ(problems[1],
            "spec.target.paths[1] relative/dir is invalid. Reason: must be an absolute path "
            "inside a volumeMount");
  EXPECT_EQ(problems[2].rfind("spec.repository.name is required", 0), 0u);
  EXPECT_EQ(problems[3],
            "spec.retentionPolicy.keepDaily -3 is invalid. Reason: must be a number of snapshots, "
            "0 or more");
  EXPECT_EQ(problems[4],
            "spec.retentionPolicy.keepTags[1] is invalid. Reason: a tag must not be empty");
  spec.target.reset();
  spec.retention_policy.reset();
  problems = ValidateBackupConfigurationSpec(spec);
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].rfind("spec.target.ref.kind is required", 0), 0u);
  EXPECT_EQ(problems[1], "spec.target.ref.name is required");
  EXPECT_EQ(problems[3].rfind("spec.retentionPolicy is required", 0), 0u);
}

TEST(Validation, RepositoryBackends) {
  auto local = Decoded<apis::RepositorySpec>(R"({"backend": {"storageSecretName": "s",
      "local": {"mountPath": "/safe", "hostPath": {"path": "/r"}}}})");
  EXPECT_TRUE(ValidateRepositorySpec(local).empty());
  apis::RepositorySpec wipe = local;
  wipe.wipe_out = true;
  EXPECT_EQ(ValidateRepositorySpec(wipe),
            std::vector<std::string>{"wipe out operation is not supported for local backend"});
  apis::RepositorySpec stash_dir = local;
  stash_dir.backend.local->mount_path = "/stash/data";
  ASSERT_EQ(ValidateRepositorySpec(stash_dir).size(), 1u);
  EXPECT_EQ(ValidateRepositorySpec(stash_dir)[0].rfind("Invalid `mountPath`", 0), 0u);
  auto none = Decoded<apis::RepositorySpec>(R"({"backend": {"storageSecretName": "s"}})");
  ASSERT_EQ(ValidateRepositorySpec(none).size(), 1u);
  EXPECT_NE(ValidateRepositorySpec(none)[0].find("exactly one of"), std::string::npos);
  EXPECT_EQ(ValidateRepositorySpec(apis::RepositorySpec{}),
            std::vector<std::string>{"spec.backend is required: where the repository is stored"});
  auto b2 = Decoded<apis::RepositorySpec>(R"({"backend": {"b2": {"bucket": "x"}}})");
  ASSERT_EQ(ValidateRepositorySpec(b2).size(), 1u);
  EXPECT_NE(ValidateRepositorySpec(b2)[0].find("not supported"), std::string::npos);
}

TEST(Validation, BackupConfigurationPluginRulesOfStashsWebhook) {
  auto plugin = Plugin("backupconfigurations");
  ASSERT_TRUE(plugin);
  const apis::BackupConfiguration bc = GuideConfiguration();
  EXPECT_TRUE(plugin->Review(Request("backupconfigurations", apis::ToJson(bc))).allowed);
  // Target changes of a Ready BackupConfiguration are refused.
  apis::BackupConfiguration ready = bc;
  ready.status.phase = "Ready";
  apis::BackupConfiguration moved = bc;
  moved.spec.target->ref.name = "other";
  auto v =
      plugin->Review(Request("backupconfigurations", apis::ToJson(moved), apis::ToJson(ready)));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message, "updating target is forbidden when BackupConfiguration is in READY state");
  // A legacy invalid object may still be finished with (finalizers, labels).
  apis::BackupConfiguration legacy = bc;
  legacy.spec.schedule = "61 * * * *";
  apis::BackupConfiguration labelled = legacy;
  labelled.metadata.labels["a"] = "b";
  EXPECT_TRUE(
      plugin->Review(Request("backupconfigurations", apis::ToJson(labelled), apis::ToJson(legacy)))
          .allowed);
  EXPECT_FALSE(plugin->Review(Request("backupconfigurations", apis::ToJson(legacy))).allowed);
  apis::BackupConfiguration other_ns = bc;
  other_ns.spec.target->ref.namespace_ = "elsewhere";
  v = plugin->Review(Request("backupconfigurations", apis::ToJson(other_ns)));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message, "cross-namespace target reference is not allowed for \"Deployment\"");
  // A malformed object is refused naming the field.
  json malformed = apis::ToJson(bc);
  malformed.merge_patch(json::parse(R"({"spec": {"retentionPolicy": {"keepLast": "five"}}})"));
  v = plugin->Review(Request("backupconfigurations", malformed));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message.rfind("spec.retentionPolicy.keepLast: ", 0), 0u) << v.message;
}

TEST(Validation, UsagePolicyOfACrossNamespaceRepository) {
  auto plugin = Plugin("backupconfigurations");
  apis::BackupConfiguration bc = GuideConfiguration();
  bc.spec.repository.name = "shared";
  bc.spec.repository.namespace_ = "backups";
  json policy = json::object();
  api::AdmissionRequest r = Request("backupconfigurations", apis::ToJson(bc));
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
  policy = {{"allowedNamespaces",
             {{"from", "Selector"}, {"selector", {{"matchLabels", {{"team", "b"}}}}}}}};
  EXPECT_FALSE(plugin->Review(r).allowed);
  policy = {{"allowedNamespaces", {{"from", "All"}}}};
  EXPECT_TRUE(plugin->Review(r).allowed);
}

TEST(Validation, BackupSessionSpecIsImmutableButStatusIsNot) {
  auto plugin = Plugin("backupsessions");
  apis::BackupSession bs;
  bs.metadata.name = "s";
  bs.spec.invoker.name = "a";
  apis::BackupSession changed = bs;
  changed.spec.invoker.name = "b";
  EXPECT_EQ(
      plugin->Review(Request("backupsessions", apis::ToJson(changed), apis::ToJson(bs))).message,
      "BackupSession spec is immutable");
  apis::BackupSession status = bs;
  status.status.phase = "Running";
  EXPECT_TRUE(
      plugin->Review(Request("backupsessions", apis::ToJson(status), apis::ToJson(bs))).allowed);
}

TEST(Validation, RestoreSessionRulesOfStashsWebhook) {
  auto plugin = Plugin("restoresessions");
  ASSERT_TRUE(plugin);
  auto rs = Decoded<apis::RestoreSession>(R"({"metadata": {"name": "r", "namespace": "demo"},
    "spec": {"repository": {"name": "repo"},
             "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"},
                        "rules": [{"targetHosts": ["host-1"], "paths": ["/data"]},
                                  {"paths": ["/data"]}]}}})");
  EXPECT_TRUE(plugin->Review(Request("restoresessions", apis::ToJson(rs))).allowed);
  apis::RestoreSession twice = rs;
  twice.spec.target->rules.push_back(twice.spec.target->rules[0]);
  auto v = plugin->Review(Request("restoresessions", apis::ToJson(twice)));
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.message.find("Multiple rules (rule[0] and rule[2]) match for host \"host-1\""),
            std::string::npos)
      << v.message;
  apis::RestoreSession two_empty = rs;
  two_empty.spec.target->rules.push_back({});
  v = plugin->Review(Request("restoresessions", apis::ToJson(two_empty)));
  EXPECT_NE(v.message.find("2 rules found with empty targetHosts (Rules: rule[1], rule[2])"),
            std::string::npos)
      << v.message;
  apis::RestoreSession both = rs;
  both.spec.target->rules[1].snapshots = {"1a2b3c4d"};
  v = plugin->Review(Request("restoresessions", apis::ToJson(both)));
  EXPECT_NE(v.message.find("Both 'snapshots' and 'paths' fileds are specified in rule[1]"),
            std::string::npos)
      << v.message;
}

}  // namespace
}  // namespace stash::controller
