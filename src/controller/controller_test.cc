// BackupConfigurationController against an in-process API server
// (apis::testing::TestCluster) with a ManualClock: what a user sees in the
// objects' statuses, events and the workload, without the binary or kubectl.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cluster.h"
#include "stash/apis/apps.h"
#include "stash/apis/backup.h"
#include "stash/apis/batch.h"
#include "stash/apis/client.h"
#include "stash/controller/backup_configuration_controller.h"
#include "stash/controller/invoker.h"
#include "stash/core/testing.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {
namespace {

using apis::BackupConfiguration;
using apis::testing::TestCluster;

constexpr const char* kSecret = R"({"apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "repo-secret", "namespace": "demo"},
  "data": {"RESTIC_PASSWORD": "Y2hhbmdlaXQ="}})";

constexpr const char* kRepository = R"({"apiVersion": "stash.appscode.com/v1alpha1",
  "kind": "Repository", "metadata": {"name": "local-repo", "namespace": "demo"},
  "spec": {"backend": {"storageSecretName": "repo-secret",
    "local": {"mountPath": "/safe/data", "hostPath": {"path": "/tmp/stash-test-repo"}}}}})";

constexpr const char* kDeployment = R"({"apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "stash-demo", "namespace": "demo", "labels": {"app": "stash-demo"}},
  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "stash-demo"}},
    "strategy": {"type": "RollingUpdate"},
    "template": {"metadata": {"labels": {"app": "stash-demo"}},
      "spec": {"containers": [{"name": "busybox", "image": "busybox",
        "livenessProbe": {"exec": {"command": ["/bin/true"]}},
        "volumeMounts": [{"mountPath": "/source/data", "name": "source-data"}]}],
        "volumes": [{"name": "source-data",
                     "persistentVolumeClaim": {"claimName": "source-pvc"}}]}}}})";

std::string BackupConfigurationJson(const std::string& name, const std::string& schedule,
                                    const std::string& repo = "local-repo") {
  return R"({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
    "metadata": {"name": ")" +
         name + R"(", "namespace": "demo"},
    "spec": {"repository": {"name": ")" +
         repo + R"("}, "schedule": ")" + schedule + R"(",
      "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
        "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
        "paths": ["/source/data"]},
      "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true}}})";
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Start());
    controller_ = std::make_unique<BackupConfigurationController>(cluster_.client(),
                                                                  cluster_.clock(), "demo");
  }
  void TearDown() override { controller_.reset(); }

  void StartController() {
    controller_->Start();
    ASSERT_TRUE(cluster_.WaitFor([&] { return controller_->synced(); }));
  }

  Result<BackupConfiguration> Bc(const std::string& name) {
    return apis::Get<BackupConfiguration>(cluster_.client(), "demo", name);
  }
  // The BackupConfiguration once its phase is `phase`.
  std::optional<BackupConfiguration> WaitPhase(const std::string& name, const std::string& phase) {
    std::optional<BackupConfiguration> got;
    cluster_.WaitFor([&] {
      auto bc = Bc(name);
      if (bc.ok() && bc->status.phase == phase) got = *bc;
      return got.has_value();
    });
    return got;
  }
  apis::Deployment Deployment() {
    return *apis::Get<apis::Deployment>(cluster_.client(), "demo", "stash-demo");
  }
  std::vector<apis::Event> Events(const std::string& reason) {
    return cluster_.Events("demo", reason);
  }

  TestCluster cluster_;
  std::unique_ptr<BackupConfigurationController> controller_;
};

TEST_F(ControllerTest, ReadyInjectsTheSidecarAndCreatesTheTrigger) {
  for (const char* obj : {kSecret, kRepository, kDeployment}) ASSERT_OK(cluster_.Apply(obj));
  ASSERT_OK(cluster_.Apply(BackupConfigurationJson("pause-backup", "*/5 * * * *")));
  StartController();
  auto bc = WaitPhase("pause-backup", "Ready");
  ASSERT_TRUE(bc);
  for (const apis::Condition& c : bc->status.conditions) EXPECT_EQ(c.status, "True") << c.type;
  EXPECT_EQ(bc->status.conditions.size(), 6u);
  EXPECT_TRUE(bc->metadata.HasFinalizer(kube::kFinalizer));

  apis::Deployment d = Deployment();
  const auto& containers = d.spec.template_.spec.containers;
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[1].name, "stash");
  EXPECT_EQ(containers[1].volume_mounts.back().mount_path, "/safe/data");  // the local backend
  // What the user wrote and the operator does not model is still there (with
  // the defaults the API server adds on write).
  ASSERT_TRUE(d.spec.extra.fields.contains("strategy"));
  EXPECT_EQ(d.spec.extra.fields.at("strategy").at("type"), "RollingUpdate");
  EXPECT_TRUE(containers[0].extra.fields.contains("livenessProbe"));

  auto cj = apis::Get<apis::CronJob>(cluster_.client(), "demo", "stash-trigger-pause-backup");
  ASSERT_OK(cj);
  EXPECT_EQ(cj->spec.schedule, "*/5 * * * *");
  EXPECT_EQ(cj->metadata.owner_references.at(0).uid, bc->metadata.uid);
  EXPECT_TRUE(cluster_.WaitFor([&] { return !Events("Sidecar Injection Succeeded").empty(); }));
}

TEST_F(ControllerTest, PausingChangesNeitherThePodTemplateNorTheTrigger) {
  for (const char* obj : {kSecret, kRepository, kDeployment}) ASSERT_OK(cluster_.Apply(obj));
  ASSERT_OK(cluster_.Apply(BackupConfigurationJson("pause-backup", "*/5 * * * *")));
  StartController();
  ASSERT_TRUE(WaitPhase("pause-backup", "Ready"));
  const apis::Deployment before = Deployment();
  for (bool paused : {true, false}) {
    auto bc = Bc("pause-backup");
    ASSERT_OK(bc);
    ASSERT_OK(apis::MergePatch<BackupConfiguration>(cluster_.client(), bc->metadata,
                                                    {{"spec", {{"paused", paused}}}}));
    // Reconciled: the status records the new generation.
    ASSERT_TRUE(cluster_.WaitFor([&] {
      auto now = Bc("pause-backup");
      return now.ok() && now->status.observed_generation == now->metadata.generation;
    }));
  }
  const apis::Deployment after = Deployment();
  // (The cluster's deployment controller writes its status meanwhile.)
  EXPECT_EQ(after.metadata.generation, before.metadata.generation);
  EXPECT_EQ(after.spec.template_, before.spec.template_);
  auto cj = apis::Get<apis::CronJob>(cluster_.client(), "demo", "stash-trigger-pause-backup");
  ASSERT_OK(cj);
  EXPECT_EQ(cj->spec.suspend, false);  // 2019 semantics: the ticks go on, and are skipped
}

TEST_F(ControllerTest, AMissingSecretIsReportedUntilItIsCreated) {
  for (const char* obj : {kRepository, kDeployment}) ASSERT_OK(cluster_.Apply(obj));
  ASSERT_OK(cluster_.Apply(BackupConfigurationJson("no-secret", "0 * * * *")));
  StartController();
  auto bc = WaitPhase("no-secret", "NotReady");
  ASSERT_TRUE(bc);
  const apis::Condition* c = apis::FindCondition(bc->status.conditions, kBackendSecretFound);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "False");
  EXPECT_EQ(c->reason, "BackendSecretNotAvailable");
  EXPECT_NE(c->message.find("Backend Secret demo/repo-secret does not exist"), std::string::npos);
  // The Secret's arrival alone (no change to the BackupConfiguration) makes it Ready.
  ASSERT_OK(cluster_.Apply(kSecret));
  EXPECT_TRUE(WaitPhase("no-secret", "Ready"));
}

TEST_F(ControllerTest, AnInvalidScheduleIsInvalidAndHasNoTrigger) {
  for (const char* obj : {kSecret, kRepository, kDeployment}) ASSERT_OK(cluster_.Apply(obj));
  ASSERT_OK(cluster_.Apply(BackupConfigurationJson("bad-cron", "61 * * * *")));
  StartController();
  auto bc = WaitPhase("bad-cron", "Invalid");
  ASSERT_TRUE(bc);
  const apis::Condition* c = apis::FindCondition(bc->status.conditions, kValidationPassed);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "ResourceValidationFailed");
  EXPECT_NE(c->message.find("spec.schedule 61 * * * * is invalid. Reason: "), std::string::npos)
      << c->message;
  EXPECT_EQ(
      apis::Get<apis::CronJob>(cluster_.client(), "demo", "stash-trigger-bad-cron").status().code(),
      Code::kNotFound);
  ASSERT_OK(apis::MergePatch<BackupConfiguration>(cluster_.client(), bc->metadata,
                                                  {{"spec", {{"schedule", "0 * * * *"}}}}));
  EXPECT_TRUE(WaitPhase("bad-cron", "Ready"));
  EXPECT_OK(apis::Get<apis::CronJob>(cluster_.client(), "demo", "stash-trigger-bad-cron"));
}

TEST_F(ControllerTest, ASessionOfAConfigurationThatIsNotReadyIsSkipped) {
  ASSERT_OK(cluster_.Apply(kDeployment));
  ASSERT_OK(cluster_.Apply(BackupConfigurationJson("no-repo", "0 * * * *", "nowhere")));
  StartController();
  ASSERT_TRUE(WaitPhase("no-repo", "NotReady"));
  ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
    "kind": "BackupSession", "metadata": {"name": "no-repo-now", "namespace": "demo"},
    "spec": {"invoker": {"apiGroup": "stash.appscode.com", "kind": "BackupConfiguration",
                         "name": "no-repo"}}})"));
  std::optional<apis::BackupSession> bs;
  ASSERT_TRUE(cluster_.WaitFor([&] {
    auto got = apis::Get<apis::BackupSession>(cluster_.client(), "demo", "no-repo-now");
    if (got.ok() && got->status.phase == "Skipped") bs = *got;
    return bs.has_value();
  }));
  ASSERT_EQ(bs->status.conditions.size(), 1u);
  EXPECT_EQ(bs->status.conditions[0].reason, "SkippedTakingNewBackup");
  EXPECT_NE(bs->status.conditions[0].message.find("Repository demo/nowhere does not exist"),
            std::string::npos);
  EXPECT_TRUE(cluster_.WaitFor([&] { return !Events("BackupSessionSkipped").empty(); }));
}

TEST_F(ControllerTest, SessionsSkippedByTheOperatorArePrunedToTheHistoryLimit) {
  ASSERT_OK(cluster_.Apply(kDeployment));
  std::string bc = BackupConfigurationJson("no-repo", "0 * * * *", "nowhere");
  bc.replace(bc.find(R"("spec": {)"), 9, R"("spec": {"backupHistoryLimit": 2, )");
  ASSERT_OK(cluster_.Apply(bc));
  StartController();
  ASSERT_TRUE(WaitPhase("no-repo", "NotReady"));
  auto names = [&] {
    std::set<std::string> out;
    auto list = apis::List<apis::BackupSession>(cluster_.client(), "demo");
    if (list.ok()) {
      for (const auto& s : *list) out.insert(s.metadata.name);
    }
    return out;
  };
  for (int i = 1; i <= 4; ++i) {
    const std::string name = "tick-" + std::to_string(i);
    // The guide's form: only the backup-configuration label names the invoker.
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
      "kind": "BackupSession", "metadata": {"name": ")" +
                             name + R"(", "namespace": "demo",
        "labels": {"stash.appscode.com/backup-configuration": "no-repo"}}, "spec": {}})"));
    ASSERT_TRUE(cluster_.WaitFor([&] {
      auto got = apis::Get<apis::BackupSession>(cluster_.client(), "demo", name);
      return got.ok() && got->status.phase == "Skipped";
    })) << name;
  }
  EXPECT_TRUE(cluster_.WaitFor([&] {
    return names() == std::set<std::string>{"tick-3", "tick-4"};
  })) << "left: "
      << names().size();
}

TEST_F(ControllerTest, DeletionRemovesTheSidecarAndTheTrigger) {
  for (const char* obj : {kSecret, kRepository, kDeployment}) ASSERT_OK(cluster_.Apply(obj));
  const apis::Deployment original = Deployment();
  ASSERT_OK(cluster_.Apply(BackupConfigurationJson("gone", "0 * * * *")));
  StartController();
  ASSERT_TRUE(WaitPhase("gone", "Ready"));
  ASSERT_OK(apis::Delete<BackupConfiguration>(cluster_.client(), "demo", "gone"));
  ASSERT_TRUE(cluster_.WaitFor([&] { return Bc("gone").status().code() == Code::kNotFound; }));
  apis::Deployment d = Deployment();
  // The template is back as the user wrote it: its pods keep their hash.
  EXPECT_EQ(apis::ToJson(d.spec.template_), apis::ToJson(original.spec.template_));
  EXPECT_EQ(
      apis::Get<apis::CronJob>(cluster_.client(), "demo", "stash-trigger-gone").status().code(),
      Code::kNotFound);
}

}  // namespace
}  // namespace stash::controller
