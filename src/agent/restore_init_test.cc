// `stash run-restore` (RestoreInit) against the in-process API server and a
// real repository: a host restores once through its path map, records its
// stats and event, is skipped when done, and records why it failed.
#include "stash/agent/restore_init.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster.h"
#include "stash/agent/authorized.h"
#include "stash/apis/client.h"
#include "stash/apis/core.h"
#include "stash/backend/local.h"
#include "stash/core/testing.h"
#include "stash/engine/backup.h"

namespace stash::agent {
namespace {

namespace fs = std::filesystem;
using apis::testing::TestCluster;

class RestoreInitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Start());
    dir_ = cluster_.dir();
    repo_dir_ = dir_ + "/repo";
    repo::Options o;
    o.scrypt_n = 1024;
    o.clock = &cluster_.clock();
    o.random = &random_;
    auto repo = repo::Repository::Init(std::make_unique<backend::LocalBackend>(repo_dir_), "pw", o);
    ASSERT_OK(repo);
    fs::create_directories(dir_ + "/source");
    std::ofstream(dir_ + "/source/data.txt") << "sample_data\n";
    engine::BackupOptions b;
    b.paths = {"/source/data"};
    b.hostname = "host-1";
    b.path_map.Add("/source/data", dir_ + "/source");
    auto stats = engine::Backup(**repo, b, cluster_.clock(), nullptr, nullptr);
    ASSERT_OK(stats);
    snapshot_ = stats->snapshot_id.Hex();
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "demo"}, "stringData": {"RESTIC_PASSWORD": "pw"}})"));
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository",
        "metadata": {"name": "repo", "namespace": "demo"},
        "spec": {"backend": {"storageSecretName": "s",
                 "local": {"mountPath": "/r", "hostPath": {"path": ")" +
                             repo_dir_ + R"("}}}}})"));
  }

  void ApplySession(const std::string& rules) {
    ASSERT_OK(
        cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
        "metadata": {"name": "rs", "namespace": "demo"},
        "spec": {"repository": {"name": "repo"},
                 "target": {"ref": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
                            "volumeMounts": [{"name": "data", "mountPath": "/source/data"}],
                            "rules": )" +
                       rules + R"(}},
        "status": {"phase": "Running", "totalHosts": 3}})"));
    // The status subresource ignores status on create: set it as the operator would.
    auto s = apis::Get<apis::RestoreSession>(cluster_.client(), "demo", "rs");
    ASSERT_OK(s);
    apis::RestoreSessionStatus st;
    st.phase = "Running";
    ASSERT_OK(apis::PatchStatus(cluster_.client(), *s, st).status());
  }

  RestoreInit Init(const std::string& pod, const std::string& into) {
    RestoreInitOptions o;
    o.ns = "demo";
    o.invoker_name = "rs";
    o.target_kind = "StatefulSet";
    o.target_name = "db";
    o.pod_name = pod;
    o.data_dir = dir_ + "/node";  // the embedded node: hostPath repositories are local
    o.path_map.Add("/source/data", into);
    return RestoreInit(cluster_.client(), cluster_.clock(), random_, o);
  }

  apis::HostRestoreStats Stats(const std::string& host) {
    auto s = apis::Get<apis::RestoreSession>(cluster_.client(), "demo", "rs");
    EXPECT_OK(s);
    for (const auto& st : s->status.stats) {
      if (st.hostname == host) return st;
    }
    return {};
  }

  static std::string Read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  TestCluster cluster_;
  SeededRandom random_{9};
  std::string dir_, repo_dir_, snapshot_;
  std::atomic<bool> stop_{false};
};

TEST_F(RestoreInitTest, RestoresOnceThenSkips) {
  ApplySession(R"([{"sourceHost": "host-1", "paths": ["/source/data"]}])");
  const std::string into = dir_ + "/pod-2";
  RestoreInit init = Init("db-2", into);
  EXPECT_EQ(init.HostName(), "host-2");
  EXPECT_EQ(init.LeaseName(), "lock-statefulset-db-restore-host-2");
  auto outcome = init.Run(stop_);
  ASSERT_OK(outcome);
  EXPECT_EQ(*outcome, RestoreOutcome::kRestored);
  EXPECT_EQ(Read(into + "/data.txt"), "sample_data\n");
  EXPECT_EQ(Stats("host-2").phase, "Succeeded");
  EXPECT_FALSE(Stats("host-2").duration.empty());
  auto events = apis::List<apis::Event>(cluster_.client(), "demo");
  ASSERT_OK(events);
  bool found = false;
  for (const auto& e : *events) {
    found = found || (e.reason == "Host Restore Succeeded" &&
                      e.message == "restore succeeded for host \"host-2\"" &&
                      e.source.component == "Restore Init-Container");
  }
  EXPECT_TRUE(found);

  // The pod restarts: its host is done, nothing is restored again.
  std::ofstream(into + "/data.txt") << "changed after the restore\n";
  auto again = Init("db-2", into).Run(stop_);
  ASSERT_OK(again);
  EXPECT_EQ(*again, RestoreOutcome::kSkipped);
  EXPECT_EQ(Read(into + "/data.txt"), "changed after the restore\n");
}

TEST_F(RestoreInitTest, FailureIsRecordedWithItsReason) {
  ApplySession(R"([{"snapshots": ["deadbeef"]}])");
  const std::string into = dir_ + "/pod-0";
  auto outcome = Init("db-0", into).Run(stop_);
  ASSERT_OK(outcome);
  EXPECT_EQ(*outcome, RestoreOutcome::kFailed);
  apis::HostRestoreStats st = Stats("host-0");
  EXPECT_EQ(st.phase, "Failed");
  EXPECT_NE(st.error.find("snapshot \"deadbeef\" is not in the repository"), std::string::npos)
      << st.error;
  // The retry lets the pod start: the failure is already on record.
  auto again = Init("db-0", into).Run(stop_);
  ASSERT_OK(again);
  EXPECT_EQ(*again, RestoreOutcome::kSkipped);
}

// A restore Job's pod refused a call names the Job, not an init container,
// in the RestoreSession's condition (the type is the init container's:
// Stash names none for either).
TEST_F(RestoreInitTest, ARefusedRestoreJobSaysItIsTheJob) {
  ApplySession(R"([{"paths": ["/source/data"]}])");
  // The pod's account may do all but read the Repository.
  const kube::Resource roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  const kube::Resource bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding",
                                true};
  ASSERT_OK(
      cluster_.client()
          .Create(roles, "demo", kube::json::parse(R"({"metadata": {"name": "stash-restore-rs"},
      "rules": [
        {"apiGroups": ["stash.appscode.com"], "resources": ["restoresessions"], "verbs": ["get"]},
        {"apiGroups": ["stash.appscode.com"], "resources": ["restoresessions/status"],
         "verbs": ["patch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "verbs": ["get", "create", "update"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "create", "patch"]}]})"))
          .status());
  ASSERT_OK(
      cluster_.client()
          .Create(bindings, "demo", kube::json::parse(R"({"metadata": {"name": "stash-restore-rs"},
      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                  "name": "stash-restore-rs"},
      "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "demo"}]})"))
          .status());
  const kube::Resource token{"", "v1", "serviceaccounts/default/token", "TokenRequest", true};
  auto made = cluster_.client().Create(token, "demo", kube::json::parse(R"({"spec": {}})"));
  ASSERT_OK(made);
  kube::KubeConfig cfg = cluster_.client().config();
  cfg.token = (*made)["status"]["token"].get<std::string>();
  cfg.client_cert_pem.clear();
  cfg.client_key_pem.clear();
  kube::Client pod(cfg);
  RestoreInitOptions o;
  o.ns = "demo";
  o.invoker_name = "rs";
  o.target_kind = "StatefulSet";
  o.target_name = "db";
  o.pod_name = "stash-restore-rs-abcde";
  o.host = "host-0";
  o.job = true;
  o.data_dir = dir_ + "/node";
  o.path_map.Add("/source/data", dir_ + "/pod-0");
  auto outcome = RestoreInit(pod, cluster_.clock(), random_, o).Run(stop_);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), Code::kForbidden) << outcome.status().ToString();
  auto rs = apis::Get<apis::RestoreSession>(cluster_.client(), "demo", "rs");
  ASSERT_OK(rs);
  const apis::Condition* c =
      apis::FindCondition(rs->status.conditions, kInitContainerAuthorizedCondition);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "False");
  EXPECT_NE(c->message.find("The stash restore Job's pod demo/stash-restore-rs-abcde was denied"),
            std::string::npos)
      << c->message;
  EXPECT_EQ(c->message.find("init container"), std::string::npos) << c->message;
  EXPECT_NE(c->message.find("cannot get resource \"repositories\""), std::string::npos)
      << c->message;
}

TEST_F(RestoreInitTest, HostWithoutARuleIsDone) {
  ApplySession(R"([{"targetHosts": ["host-1"], "snapshots": [")" + snapshot_.substr(0, 8) +
               R"("]}])");
  auto outcome = Init("db-0", dir_ + "/pod-0").Run(stop_);
  ASSERT_OK(outcome);
  EXPECT_EQ(*outcome, RestoreOutcome::kSkipped);
  EXPECT_EQ(Stats("host-0").phase, "Succeeded");
  EXPECT_FALSE(fs::exists(dir_ + "/pod-0/data.txt"));
}

}  // namespace
}  // namespace stash::agent
