#include "stash/controller/invoker.h"

#include <gtest/gtest.h>

#include "stash/apis/apps.h"
#include "stash/core/testing.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {
namespace {

using apis::json;

apis::BackupConfiguration GuideBackupConfiguration() {
  return *apis::FromJson<apis::BackupConfiguration>(json::parse(R"({
    "apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
    "metadata": {"name": "pause-backup", "namespace": "demo", "uid": "u-1", "generation": 1},
    "spec": {"repository": {"name": "gcs-repo"}, "schedule": "*/5 * * * *",
      "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
                 "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
                 "paths": ["/source/data"]},
      "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true}}})"));
}

json GuideDeploymentJson() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "stash-demo", "namespace": "demo", "resourceVersion": "7"},
    "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "stash-demo"}},
      "spec": {"containers": [{"name": "busybox", "image": "busybox",
        "volumeMounts": [{"mountPath": "/source/data", "name": "source-data"}]}],
        "volumes": [{"name": "source-data", "persistentVolumeClaim": {"claimName": "source-pvc"}}]}}}})");
}

apis::Deployment GuideDeployment() {
  return *apis::FromJson<apis::Deployment>(GuideDeploymentJson());
}

std::vector<std::string> Args(const apis::Container& c) { return c.args; }

bool HasArg(const apis::Container& c, const std::string& a) {
  return std::find(c.args.begin(), c.args.end(), a) != c.args.end();
}

TEST(Invoker, SidecarRunsRunBackupWithTheTargetsMounts) {
  apis::Container c = SidecarContainer(GuideBackupConfiguration());
  EXPECT_EQ(c.name, "stash");
  EXPECT_EQ(c.image, std::string(kube::kStashImage));
  EXPECT_EQ(c.args.at(0), "run-backup");
  EXPECT_TRUE(HasArg(c, "--invoker-name=pause-backup"));
  EXPECT_TRUE(HasArg(c, "--target-kind=Deployment"));
  EXPECT_TRUE(HasArg(c, "--target-namespace=demo"));
  EXPECT_EQ(c.volume_mounts.at(0).mount_path, "/source/data");
  EXPECT_EQ(c.env.at(0).name, "NODE_NAME");
  EXPECT_EQ(c.env.at(0).value_from->field_ref->field_path, "spec.nodeName");
  EXPECT_EQ(c.env.at(1).name, "POD_NAME");
}

TEST(Invoker, SidecarCacheAndMetricsFollowTheSpecAndTheOperator) {
  apis::BackupConfiguration bc = GuideBackupConfiguration();
  apis::Container c = SidecarContainer(bc);
  EXPECT_TRUE(HasArg(c, "--enable-cache=true"));
  EXPECT_TRUE(HasArg(c, "--metrics-enabled=false"));
  bc.spec.temp_dir.disable_caching = true;
  c = SidecarContainer(bc, kube::kStashImage, "http://gateway:9091");
  EXPECT_TRUE(HasArg(c, "--enable-cache=false"));
  EXPECT_TRUE(HasArg(c, "--metrics-enabled=true"));
  EXPECT_TRUE(HasArg(c, "--pushgateway-url=http://gateway:9091"));
}

TEST(Invoker, InjectionIsIdempotentAndKeepsTheUsersContainer) {
  apis::BackupConfiguration bc = GuideBackupConfiguration();
  apis::Deployment d = GuideDeployment();
  EXPECT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  auto& containers = d.spec.template_.spec.containers;
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0].name, "busybox");
  EXPECT_EQ(containers[1].name, "stash");
  EXPECT_EQ(d.metadata.annotations.at(std::string(kube::kAnnotationInvoker)), "pause-backup");
  // As the server stores it and hands it back.
  apis::Deployment stored = *apis::FromJson<apis::Deployment>(apis::ToJson(d));
  EXPECT_FALSE(InjectSidecar(&stored.metadata, &stored.spec.template_, bc, nullptr));
  EXPECT_TRUE(RemoveSidecar(&stored.metadata, &stored.spec.template_));
  EXPECT_EQ(stored.spec.template_.spec.containers.size(), 1u);
  // The template is back as written: its pods get the hash they had before.
  EXPECT_EQ(apis::ToJson(stored), GuideDeploymentJson());
  EXPECT_FALSE(RemoveSidecar(&stored.metadata, &stored.spec.template_));
}

TEST(Invoker, ServerDefaultsOfTheSidecarAreKept) {
  apis::BackupConfiguration bc = GuideBackupConfiguration();
  apis::Deployment d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  // A real apiserver defaults container members the operator never sets.
  apis::Deployment stored = *apis::FromJson<apis::Deployment>(apis::ToJson(d));
  stored.spec.template_.spec.containers.at(1).extra.fields =
      json::parse(R"({"terminationMessagePath": "/dev/termination-log"})");
  const json before = apis::ToJson(stored);
  auto again = *apis::FromJson<apis::Deployment>(before);
  EXPECT_FALSE(InjectSidecar(&again.metadata, &again.spec.template_, bc, nullptr));
  EXPECT_EQ(apis::ToJson(again), before);
}

TEST(Invoker, TogglingPausedLeavesThePodTemplateUnchanged) {
  apis::BackupConfiguration bc = GuideBackupConfiguration();
  apis::Deployment d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  const apis::PodTemplateSpec template_before = d.spec.template_;
  const std::string hash = InvokerHash(bc);
  bc.spec.paused = true;
  EXPECT_EQ(InvokerHash(bc), hash);
  EXPECT_FALSE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  EXPECT_EQ(d.spec.template_, template_before);
  // An explicit `paused: false` (kubectl patch after a pause) hashes the same.
  apis::BackupConfiguration resumed = *apis::FromJson<apis::BackupConfiguration>(json::parse(
      R"({"metadata": {"name": "pause-backup", "namespace": "demo", "uid": "u-1"},
          "spec": {"repository": {"name": "gcs-repo"}, "schedule": "*/5 * * * *",
            "paused": false,
            "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "name": "stash-demo"},
              "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
              "paths": ["/source/data"]},
            "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true}}})"));
  EXPECT_EQ(InvokerHash(resumed), hash);
}

// The sidecar reads schedule, retention, paths and timeOut at each session:
// editing them leaves the pod template alone (no rollout); what the sidecar
// container is made of (its target's mounts, caching) does change it.
TEST(Invoker, OnlyWhatTheSidecarContainerNeedsChangesThePodTemplate) {
  apis::BackupConfiguration bc = GuideBackupConfiguration();
  apis::Deployment d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  const apis::PodTemplateSpec template_before = d.spec.template_;
  const std::string hash = InvokerHash(bc);
  bc.spec.schedule = "*/1 * * * *";
  bc.spec.retention_policy->keep_last = 50;
  bc.spec.time_out = "10m";
  bc.spec.target->paths.push_back("/source/other");
  EXPECT_EQ(InvokerHash(bc), hash);
  EXPECT_FALSE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  EXPECT_EQ(d.spec.template_, template_before);
  bc.spec.target->volume_mounts.push_back({});
  bc.spec.target->volume_mounts.back().name = "other";
  bc.spec.target->volume_mounts.back().mount_path = "/source/other";
  EXPECT_NE(InvokerHash(bc), hash);
  EXPECT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  apis::BackupConfiguration uncached = GuideBackupConfiguration();
  uncached.spec.temp_dir.disable_caching = true;
  EXPECT_NE(InvokerHash(uncached), hash);
}

// Root by default (it reads whatever the workload wrote); the user's
// runtimeSettings.container.securityContext instead when set, and changing
// it changes the container (a rollout).
TEST(Invoker, SidecarRunsAsRootUnlessRuntimeSettingsSayOtherwise) {
  apis::BackupConfiguration bc = GuideBackupConfiguration();
  apis::Container c = SidecarContainer(bc);
  ASSERT_TRUE(c.security_context.has_value());
  EXPECT_EQ(c.security_context->run_as_user, 0);
  EXPECT_EQ(c.security_context->run_as_group, 0);
  const std::string hash = InvokerHash(bc);
  bc.spec.runtime_settings.container.security_context.emplace().run_as_user = 65532;
  c = SidecarContainer(bc);
  EXPECT_EQ(c.security_context->run_as_user, 65532);
  EXPECT_FALSE(c.security_context->run_as_group.has_value());
  EXPECT_NE(InvokerHash(bc), hash);
  apis::Deployment d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, bc, nullptr));
  const apis::Container& injected = d.spec.template_.spec.containers.back();
  EXPECT_EQ(injected.security_context->run_as_user, 65532);
}

TEST(Invoker, LocalBackendIsMountedIntoTheSidecar) {
  auto repo = *apis::FromJson<apis::Repository>(json::parse(R"({"spec": {"backend":
      {"storageSecretName": "s",
       "local": {"mountPath": "/safe/data", "hostPath": {"path": "/var/backup"}}}}})"));
  apis::Deployment d = GuideDeployment();
  ASSERT_TRUE(InjectSidecar(&d.metadata, &d.spec.template_, GuideBackupConfiguration(), &repo));
  const apis::PodSpec& pod = d.spec.template_.spec;
  EXPECT_EQ(apis::ToJson(pod.volumes.back()),
            json::parse(R"({"name": "stash-local-backend", "hostPath": {"path": "/var/backup"}})"));
  EXPECT_EQ(apis::ToJson(pod.containers.at(1).volume_mounts.back()),
            json::parse(R"({"name": "stash-local-backend", "mountPath": "/safe/data"})"));
}

TEST(Invoker, TriggerCronJobRunsCreateBackupSessionOnTheSchedule) {
  apis::CronJob cj = TriggerCronJob(GuideBackupConfiguration());
  EXPECT_EQ(cj.metadata.name, "stash-trigger-pause-backup");
  // The operator's --image goes into the trigger and the sidecar.
  apis::CronJob other =
      TriggerCronJob(GuideBackupConfiguration(), "registry.example.com/stash:1.2");
  EXPECT_EQ(other.spec.job_template.spec.template_.spec.containers.at(0).image,
            "registry.example.com/stash:1.2");
  EXPECT_EQ(SidecarContainer(GuideBackupConfiguration(), "registry.example.com/stash:1.2").image,
            "registry.example.com/stash:1.2");
  EXPECT_EQ(cj.spec.schedule, "*/5 * * * *");
  EXPECT_EQ(cj.metadata.owner_references.at(0).uid, "u-1");
  EXPECT_EQ(cj.metadata.owner_references.at(0).controller, true);
  const apis::Container& c = cj.spec.job_template.spec.template_.spec.containers.at(0);
  EXPECT_EQ(Args(c),
            (std::vector<std::string>{"create-backupsession", "--invoker-name=pause-backup",
                                      "--invoker-kind=BackupConfiguration"}));
  EXPECT_EQ(cj.spec.suspend, false);
  apis::BackupConfiguration paused = GuideBackupConfiguration();
  paused.spec.paused = true;  // 2019 semantics: the CronJob keeps running
  EXPECT_FALSE(CronJobNeedsUpdate(cj, TriggerCronJob(paused)));
  apis::BackupConfiguration changed = GuideBackupConfiguration();
  changed.spec.schedule = "@hourly";
  EXPECT_TRUE(CronJobNeedsUpdate(cj, TriggerCronJob(changed)));
  EXPECT_EQ(MergeCronJob(cj, TriggerCronJob(changed)).spec.schedule, "@hourly");
  EXPECT_EQ(TriggerCronJobName("a.b"), "stash-trigger-a-b");
}

TEST(Invoker, PhaseRule) {
  SystemTime t = std::chrono::system_clock::from_time_t(0);
  auto with = [&](std::initializer_list<std::pair<std::string_view, bool>> cs) {
    std::vector<apis::Condition> conds;
    for (auto [type, ok] : cs) EXPECT_TRUE(apis::SetCondition(&conds, type, ok, "r", "m", t, 1));
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
