// The trigger against the in-process API server: a tick creates a
// BackupSession, unless a RestoreSession is restoring the same workload
// (then a Normal event says why and spec.paused stays as the user set it).
#include "stash/agent/trigger.h"

#include <gtest/gtest.h>

#include "cluster.h"
#include "stash/apis/backup.h"
#include "stash/apis/client.h"
#include "stash/apis/core.h"
#include "stash/apis/restore.h"
#include "stash/core/testing.h"

namespace stash::agent {
namespace {

using apis::testing::TestCluster;

class TriggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Start());
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
        "kind": "BackupConfiguration", "metadata": {"name": "bc", "namespace": "demo"},
        "spec": {"repository": {"name": "repo"}, "schedule": "*/5 * * * *",
                 "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true},
                 "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"},
                            "paths": ["/data"]}}})"));
  }
  void ApplyRestore(const std::string& name, const std::string& target, const std::string& phase) {
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
        "kind": "RestoreSession", "metadata": {"name": ")" +
                             name + R"(", "namespace": "demo"},
        "spec": {"repository": {"name": "repo"},
                 "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": ")" +
                             target + R"("}}}})"));
    auto s = apis::Get<apis::RestoreSession>(cluster_.client(), "demo", name);
    ASSERT_OK(s);
    apis::RestoreSessionStatus st;
    st.phase = phase;
    ASSERT_OK(apis::PatchStatus(cluster_.client(), *s, st).status());
  }
  Result<std::string> Tick() {
    TriggerOptions o;
    o.ns = "demo";
    o.invoker_name = "bc";
    cluster_.clock().Advance(std::chrono::seconds(1));
    return CreateBackupSession(cluster_.client(), cluster_.clock(), o);
  }

  TestCluster cluster_;
};

TEST_F(TriggerTest, ARestoreOfTheWorkloadHoldsTheTick) {
  ApplyRestore("other-target", "another-app", "Running");  // not ours
  ApplyRestore("done", "app", "Succeeded");                // over
  auto made = Tick();
  ASSERT_OK(made);
  EXPECT_FALSE(made->empty());

  ApplyRestore("restoring", "app", "Running");
  auto held = Tick();
  ASSERT_OK(held);
  EXPECT_TRUE(held->empty());
  auto events = apis::List<apis::Event>(cluster_.client(), "demo");
  ASSERT_OK(events);
  bool found = false;
  for (const apis::Event& e : *events) {
    found = found ||
            (e.type == "Normal" && e.reason == "Backup Skipped" && e.involved_object.name == "bc" &&
             e.message.find("RestoreSession demo/restoring is restoring Deployment "
                            "demo/app") != std::string::npos);
  }
  EXPECT_TRUE(found);
  auto bc = apis::Get<apis::BackupConfiguration>(cluster_.client(), "demo", "bc");
  ASSERT_OK(bc);
  EXPECT_FALSE(bc->spec.paused);

  // Once it is over, the next tick backs up.
  auto s = apis::Get<apis::RestoreSession>(cluster_.client(), "demo", "restoring");
  ASSERT_OK(s);
  apis::RestoreSessionStatus st;
  st.phase = "Succeeded";
  ASSERT_OK(apis::PatchStatus(cluster_.client(), *s, st).status());
  auto after = Tick();
  ASSERT_OK(after);
  EXPECT_FALSE(after->empty());
}

}  // namespace
}  // namespace stash::agent
