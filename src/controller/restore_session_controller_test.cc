// The RestoreSession controller against the in-process API server: each
// Reconcile is called directly, and the test plays the hosts (writing their
// stats as `stash run-restore` does) and the user.
#include "stash/controller/restore_session_controller.h"

#include <gtest/gtest.h>

#include "cluster.h"
#include "stash/apis/client.h"
#include "stash/core/testing.h"

namespace stash::controller {
namespace {

using apis::testing::TestCluster;

class RestoreSessionControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Start());
    controller_ = std::make_unique<RestoreSessionController>(cluster_.client(), cluster_.clock());
  }

  void ApplyRepository() {
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "demo"}, "stringData": {"RESTIC_PASSWORD": "pw"}})"));
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository",
        "metadata": {"name": "repo", "namespace": "demo"},
        "spec": {"backend": {"storageSecretName": "s",
                             "local": {"mountPath": "/r", "hostPath": {"path": "/srv/r"}}}}})"));
  }
  void ApplyWorkload(const std::string& kind, int replicas) {
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "apps/v1", "kind": ")" + kind + R"(",
        "metadata": {"name": "app", "namespace": "demo"},
        "spec": {"replicas": )" +
                             std::to_string(replicas) + R"(,
                 "selector": {"matchLabels": {"app": "app"}},
                 "template": {"metadata": {"labels": {"app": "app"}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}],
                                       "volumes": [{"name": "data", "emptyDir": {}}]}}}})"));
  }
  void ApplySession(const std::string& kind, const std::string& extra = "",
                    const std::string& rules = R"([{"paths": ["/data"]}])") {
    ASSERT_OK(
        cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
        "metadata": {"name": "rs", "namespace": "demo"},
        "spec": {"repository": {"name": "repo"}, )" +
                       extra + R"(
                 "target": {"ref": {"apiVersion": "apps/v1", "kind": ")" +
                       kind + R"(", "name": "app"},
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            "rules": )" +
                       rules + R"(}}})"));
  }
  apis::RestoreSession Get() {
    auto s = apis::Get<apis::RestoreSession>(cluster_.client(), "demo", "rs");
    EXPECT_OK(s);
    return s.ok() ? *s : apis::RestoreSession{};
  }
  Status Reconcile() { return controller_->Reconcile("demo", "rs"); }
  // What `stash run-restore` writes for a host.
  void Report(const std::string& host, const std::string& phase, const std::string& error = "") {
    apis::RestoreSession s = Get();
    apis::HostRestoreStats st;
    st.hostname = host;
    st.phase = phase;
    st.duration = "1s";
    st.error = error;
    s.status.stats.push_back(st);
    ASSERT_OK(apis::PatchStatus(cluster_.client(), s, s.status, true).status());
  }
  std::string Condition(const apis::RestoreSession& s, std::string_view type) {
    const apis::Condition* c = apis::FindCondition(s.status.conditions, type);
    return c ? c->status + ": " + c->message : "";
  }

  TestCluster cluster_;
  std::unique_ptr<RestoreSessionController> controller_;
};

TEST_F(RestoreSessionControllerTest, InvalidRulesAndMissingRepositoryAreInvalid) {
  ApplyWorkload("Deployment", 1);
  ApplySession("Deployment", "", R"([{"paths": ["/data"]}, {"snapshots": ["x"]}])");
  ASSERT_OK(Reconcile());
  apis::RestoreSession s = Get();
  EXPECT_EQ(s.status.phase, "Invalid");
  EXPECT_NE(Condition(s, "ValidationPassed").find("False: invalid rules: rule 1 and rule 2"),
            std::string::npos)
      << Condition(s, "ValidationPassed");
  EXPECT_TRUE(s.metadata.HasFinalizer("stash.appscode.com"));

  // Fixed rules, but no Repository yet: Invalid, naming it; then it appears.
  s.spec.target->rules.pop_back();
  ASSERT_OK(apis::Update(cluster_.client(), s).status());
  ASSERT_OK(Reconcile());
  s = Get();
  EXPECT_EQ(s.status.phase, "Invalid");
  EXPECT_EQ(Condition(s, "RepositoryFound"), "False: Repository demo/repo does not exist.");
  ApplyRepository();
  ASSERT_OK(Reconcile());
  s = Get();
  EXPECT_EQ(s.status.phase, "Running");
  EXPECT_EQ(Condition(s, "ValidationPassed"), "True: RestoreSession passed validation.");
}

TEST_F(RestoreSessionControllerTest, InitContainerModeRunsToSucceededAndDeletionRemovesIt) {
  ApplyRepository();
  ApplySession("Deployment");
  ASSERT_OK(Reconcile());
  apis::RestoreSession s = Get();
  EXPECT_EQ(s.status.phase, "Pending");
  EXPECT_EQ(Condition(s, "RestoreTargetFound"),
            "False: Restore target apps/v1 deployment/app does not exist.");

  ApplyWorkload("Deployment", 3);
  ASSERT_OK(Reconcile());
  s = Get();
  EXPECT_EQ(s.status.phase, "Running");
  EXPECT_EQ(s.status.total_hosts, 1);  // a Deployment's replicas share host-0
  EXPECT_EQ(Condition(s, "StashInitContainerInjected"),
            "True: Successfully injected stash init-container.");
  auto d = apis::Get<apis::Deployment>(cluster_.client(), "demo", "app");
  ASSERT_OK(d);
  ASSERT_EQ(d->spec.template_.spec.init_containers.size(), 1u);
  EXPECT_EQ(d->spec.template_.spec.init_containers[0].name, "stash-init");
  // The generation moves with the spec only (the server's deployment
  // controller writes status and revision annotations meanwhile).
  const int64_t generation = d->metadata.generation;

  ASSERT_OK(Reconcile());  // nothing to do twice
  d = apis::Get<apis::Deployment>(cluster_.client(), "demo", "app");
  ASSERT_OK(d);
  EXPECT_EQ(d->metadata.generation, generation);
  Report("host-0", "Succeeded");
  ASSERT_OK(Reconcile());
  s = Get();
  EXPECT_EQ(s.status.phase, "Succeeded");
  EXPECT_FALSE(s.status.session_duration.empty());
  EXPECT_EQ(Condition(s, "RestoreCompleted").substr(0, 30), "True: Restored 1 of 1 host(s) ");

  ASSERT_OK(apis::Delete<apis::RestoreSession>(cluster_.client(), "demo", "rs"));
  ASSERT_OK(Reconcile());
  d = apis::Get<apis::Deployment>(cluster_.client(), "demo", "app");
  ASSERT_OK(d);
  EXPECT_TRUE(d->spec.template_.spec.init_containers.empty());
  EXPECT_EQ(d->metadata.annotations.count("stash.appscode.com/last-applied-restore-invoker"), 0u);
  EXPECT_EQ(apis::Get<apis::RestoreSession>(cluster_.client(), "demo", "rs").status().code(),
            Code::kNotFound);
}

TEST_F(RestoreSessionControllerTest, StatefulSetHostsAndFailures) {
  ApplyRepository();
  ApplyWorkload("StatefulSet", 3);
  ApplySession("StatefulSet");
  ASSERT_OK(Reconcile());
  EXPECT_EQ(Get().status.total_hosts, 3);
  Report("host-0", "Succeeded");
  Report("host-1", "Failed", "snapshot \"deadbeef\" is not in the repository");
  ASSERT_OK(Reconcile());
  EXPECT_EQ(Get().status.phase, "Running");  // host-2 has not reported
  Report("host-2", "Succeeded");
  ASSERT_OK(Reconcile());
  apis::RestoreSession s = Get();
  EXPECT_EQ(s.status.phase, "Failed");
  EXPECT_NE(Condition(s, "RestoreCompleted").find("host \"host-1\" failed: snapshot \"deadbeef\""),
            std::string::npos)
      << Condition(s, "RestoreCompleted");
}

TEST_F(RestoreSessionControllerTest, DeadlineFailsTheOpenHosts) {
  ApplyRepository();
  ApplyWorkload("Deployment", 1);
  ApplySession("Deployment", R"("timeOut": "2m",)");
  ASSERT_OK(Reconcile());
  EXPECT_FALSE(Get().status.session_deadline.empty());
  cluster_.clock().Advance(std::chrono::minutes(3));
  ASSERT_OK(Reconcile());
  apis::RestoreSession s = Get();
  EXPECT_EQ(s.status.phase, "Failed");
  EXPECT_EQ(Condition(s, "DeadlineExceeded"),
            "True: the restore did not finish within spec.timeOut 2m");
  ASSERT_EQ(s.status.stats.size(), 1u);
  EXPECT_EQ(s.status.stats[0].phase, "Failed");
}

TEST_F(RestoreSessionControllerTest, ClaimTargetGetsAJob) {
  ApplyRepository();
  ASSERT_OK(cluster_.Apply(R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
      "metadata": {"name": "pvc", "namespace": "demo"},
      "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})"));
  ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
      "metadata": {"name": "rs", "namespace": "demo"},
      "spec": {"repository": {"name": "repo"},
               "target": {"ref": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "pvc"},
                          "volumeMounts": [{"name": "pvc", "mountPath": "/data"}],
                          "rules": [{"paths": ["/data"]}]}}})"));
  ASSERT_OK(Reconcile());
  EXPECT_EQ(Get().status.phase, "Running");
  auto job = apis::Get<apis::Job>(cluster_.client(), "demo", "stash-restore-rs");
  ASSERT_OK(job);
  // The Job gives up without a report: the host fails with the Job's reason.
  apis::JobStatus st;
  apis::JobCondition failed;
  failed.type = "Failed";
  failed.status = "True";
  failed.message = "Job has reached the specified backoff limit";
  st.conditions = {failed};
  ASSERT_OK(apis::PatchStatus(cluster_.client(), *job, st).status());
  ASSERT_OK(Reconcile());
  apis::RestoreSession s = Get();
  EXPECT_EQ(s.status.phase, "Failed");
  ASSERT_EQ(s.status.stats.size(), 1u);
  EXPECT_EQ(s.status.stats[0].error,
            "restore Job stash-restore-rs failed: Job has reached the specified backoff limit");
}

}  // namespace
}  // namespace stash::controller
