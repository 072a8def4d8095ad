#include "stash/controller/invoker.h"

#include <gtest/gtest.h>

#include "stash/kube/stash_names.h"

namespace stash::controller {
namespace {

json GuideBackupConfiguration() {
  return json::parse(R"({
    "apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
    "metadata": {"name": "pause-backup", "namespace": "demo", "uid": "u-1", "generation": 1},
    "spec": {"repository": {"name": "gcs-repo"}, "schedule": "*/5 * * * *",
      "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
                 "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
                 "paths": ["/source/data"]},
      "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true}}})");
}

json GuideDeployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "stash-demo", "namespace": "demo", "resourceVersion": "7"},
    "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "stash-demo"}},
      "spec": {"containers": [{"name": "busybox", "image": "busybox",
        "volumeMounts": [{"mountPath": "/source/data", "name": "source-data"}]}],
        "volumes": [{"name": "source-data", "persistentVolumeClaim": {"claimName": "source-pvc"}}]}}}})");
}

TEST(Invoker, SidecarRunsRunBackupWithTheTargetsMounts) {
  json c = SidecarContainer(GuideBackupConfiguration());
  EXPECT_EQ(c["name"], "stash");
  EXPECT_EQ(c["image"], std::string(kube::kStashImage));
  EXPECT_EQ(c["args"][0], "run-backup");
  EXPECT_NE(std::find(c["args"].begin(), c["args"].end(), "--invoker-name=pause-backup"),
            c["args"].end());
  EXPECT_NE(std::find(c["args"].begin(), c["args"].end(), "--target-kind=Deployment"),
            c["args"].end());
  EXPECT_EQ(c["volumeMounts"][0]["mountPath"], "/source/data");
  EXPECT_EQ(c["env"][0]["name"], "NODE_NAME");
  EXPECT_EQ(c["env"][1]["name"], "POD_NAME");
}

TEST(Invoker, SidecarCacheAndMetricsFollowTheSpecAndTheOperator) {
  auto has = [](const json& c, const std::string& arg) {
    return std::find(c["args"].begin(), c["args"].end(), arg) != c["args"].end();
  };
  json bc = GuideBackupConfiguration();
  json c = SidecarContainer(bc);
  EXPECT_TRUE(has(c, "--enable-cache=true"));
  EXPECT_TRUE(has(c, "--metrics-enabled=false"));
  bc["spec"]["tempDir"]["disableCaching"] = true;
  c = SidecarContainer(bc, kube::kStashImage, "http://gateway:9091");
  EXPECT_TRUE(has(c, "--enable-cache=false"));
  EXPECT_TRUE(has(c, "--metrics-enabled=true"));
  EXPECT_TRUE(has(c, "--pushgateway-url=http://gateway:9091"));
}

TEST(Invoker, InjectionIsIdempotentAndKeepsTheUsersContainer) {
  json bc = GuideBackupConfiguration();
  json d = GuideDeployment();
  EXPECT_TRUE(InjectSidecar(&d, bc, nullptr));
  auto& containers = d["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["name"], "busybox");
  EXPECT_EQ(containers[1]["name"], "stash");
  EXPECT_FALSE(InjectSidecar(&d, bc, nullptr));
  EXPECT_TRUE(RemoveSidecar(&d));
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"].size(), 1u);
  // The template is back as written: its pods get the hash they had before.
  EXPECT_EQ(d["spec"]["template"], GuideDeployment()["spec"]["template"]);
  EXPECT_FALSE(RemoveSidecar(&d));
}

TEST(Invoker, TogglingPausedLeavesThePodTemplateUnchanged) {
  json bc = GuideBackupConfiguration();
  json d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d, bc, nullptr));
  json template_before = d["spec"]["template"];
  bc["spec"]["paused"] = true;
  EXPECT_EQ(InvokerHash(bc), InvokerHash(GuideBackupConfiguration()));
  EXPECT_FALSE(InjectSidecar(&d, bc, nullptr));
  EXPECT_EQ(d["spec"]["template"], template_before);
  bc["spec"]["schedule"] = "*/1 * * * *";  // a real change does change the hash
  EXPECT_NE(InvokerHash(bc), InvokerHash(GuideBackupConfiguration()));
}

TEST(Invoker, LocalBackendIsMountedIntoTheSidecar) {
  json repo = json::parse(R"({"spec": {"backend": {"storageSecretName": "s",
      "local": {"mountPath": "/safe/data", "hostPath": {"path": "/var/backup"}}}}})");
  json d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d, GuideBackupConfiguration(), &repo));
  const json& pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["volumes"].back()["name"], std::string(kube::kLocalBackendVolume));
  EXPECT_EQ(pod["volumes"].back()["hostPath"]["path"], "/var/backup");
  EXPECT_FALSE(pod["volumes"].back().contains("mountPath"));
  EXPECT_EQ(pod["containers"][1]["volumeMounts"].back()["mountPath"], "/safe/data");
}

TEST(Invoker, TriggerCronJobRunsCreateBackupSessionOnTheSchedule) {
  json cj = TriggerCronJob(GuideBackupConfiguration());
  EXPECT_EQ(cj["metadata"]["name"], "stash-trigger-pause-backup");
  // The operator's --image goes into the trigger and the sidecar.
  json other = TriggerCronJob(GuideBackupConfiguration(), "registry.example.com/stash:1.2");
  EXPECT_EQ(other["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example.com/stash:1.2");
  EXPECT_EQ(SidecarContainer(GuideBackupConfiguration(), "registry.example.com/stash:1.2")["image"],
            "registry.example.com/stash:1.2");
  EXPECT_EQ(cj["spec"]["schedule"], "*/5 * * * *");
  EXPECT_EQ(cj["metadata"]["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(cj["metadata"]["ownerReferences"][0]["controller"], true);
  const json& c = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["args"], json::array({"create-backupsession", "--invoker-name=pause-backup",
                                    "--invoker-kind=BackupConfiguration"}));
  json paused = GuideBackupConfiguration();
  paused["spec"]["paused"] = true;  // 2019 semantics: the CronJob keeps running
  EXPECT_FALSE(CronJobNeedsUpdate(cj, TriggerCronJob(paused)));
  json changed = GuideBackupConfiguration();
  changed["spec"]["schedule"] = "@hourly";
  EXPECT_TRUE(CronJobNeedsUpdate(cj, TriggerCronJob(changed)));
  EXPECT_EQ(TriggerCronJobName("a.b"), "stash-trigger-a-b");
}

TEST(Invoker, ConditionsMoveTransitionTimeOnlyOnFlips) {
  json conds;
  SystemTime t0 = std::chrono::system_clock::from_time_t(1000000000);
  EXPECT_TRUE(SetCondition(&conds, kRepositoryFound, true, "RepositoryAvailable", "m", t0, 1));
  EXPECT_FALSE(SetCondition(&conds, kRepositoryFound, true, "RepositoryAvailable", "m",
                            t0 + std::chrono::hours(1), 1));
  std::string first = conds[0]["lastTransitionTime"];
  EXPECT_TRUE(SetCondition(&conds, kRepositoryFound, false, "RepositoryNotAvailable", "gone",
                           t0 + std::chrono::hours(2), 1));
  EXPECT_NE(conds[0]["lastTransitionTime"], first);
  EXPECT_EQ(conds.size(), 1u);
  EXPECT_EQ(ConditionStatus(conds, kRepositoryFound), "False");
}

TEST(Invoker, PhaseRule) {
  SystemTime t = std::chrono::system_clock::from_time_t(0);
  auto with = [&](std::initializer_list<std::pair<std::string_view, bool>> cs) {
    json conds = json::array();
    for (auto [type, ok] : cs) EXPECT_TRUE(SetCondition(&conds, type, ok, "r", "m", t, 1));
    return ComputePhase(conds);
  };
  EXPECT_EQ(with({{kValidationPassed, true},
                  {kRepositoryFound, true},
                  {kBackendSecretFound, true},
                  {kBackupTargetFound, true},
                  {kCronJobCreated, true}}),
            "Ready");
  EXPECT_EQ(with({{kValidationPassed, true},
                  {kRepositoryFound, false},
                  {kBackendSecretFound, false},
                  {kBackupTargetFound, true},
                  {kCronJobCreated, true}}),
            "NotReady");
  EXPECT_EQ(with({{kValidationPassed, true},
                  {kRepositoryFound, true},
                  {kBackendSecretFound, true},
                  {kBackupTargetFound, false},
                  {kCronJobCreated, true}}),
            "NotReady");
  EXPECT_EQ(with({{kValidationPassed, false},
                  {kRepositoryFound, true},
                  {kBackendSecretFound, true},
                  {kBackupTargetFound, true}}),
            "Invalid");
  EXPECT_EQ(with({{kValidationPassed, true},
                  {kRepositoryFound, true},
                  {kBackendSecretFound, true},
                  {kBackupTargetFound, true},
                  {kCronJobCreated, false}}),
            "NotReady");
}

}  // namespace
}  // namespace stash::controller
