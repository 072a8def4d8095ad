// Per-host status of a multi-host BackupSession: Stash's phase rules, and
// hosts writing their entries at once through the in-process API server
// (resourceVersion conflicts re-read and merged, no entry lost).
#include "stash/agent/host_status.h"

#include <gtest/gtest.h>

#include <thread>

#include "cluster.h"
#include "stash/apis/client.h"
#include "stash/core/testing.h"

namespace stash::agent {
namespace {

using apis::BackupSession;
using apis::testing::TestCluster;

apis::TargetRef Sts() {
  apis::TargetRef ref;
  ref.api_version = "apps/v1";
  ref.kind = "StatefulSet";
  ref.name = "db";
  return ref;
}

HostReport Host(const std::string& name, bool ok, int32_t total = 3) {
  HostReport r;
  r.ref = Sts();
  r.total_hosts = total;
  r.stats.hostname = name;
  r.stats.phase = ok ? "Succeeded" : "Failed";
  r.stats.duration = "1.5s";
  if (ok) {
    apis::SnapshotStats snap;
    snap.name = "0123abcd";
    snap.path = "/var/lib/data";
    r.stats.snapshots = {snap};
  } else {
    r.stats.error = "failed to complete backup for host " + name + ". Reason: disk gone";
  }
  return r;
}

const apis::HostBackupStats* Find(const apis::BackupSessionStatus& s, const std::string& host) {
  for (const auto& t : s.targets) {
    for (const auto& h : t.stats) {
      if (h.hostname == host) return &h;
    }
  }
  return nullptr;
}

TEST(HostStatusTest, SessionRunsUntilEveryHostReported) {
  apis::BackupSessionStatus s;
  s = MergeHostReport(s, Host("host-1", true));
  ASSERT_EQ(s.targets.size(), 1u);
  EXPECT_EQ(s.targets[0].total_hosts, 3);
  EXPECT_EQ(s.targets[0].phase, "Running");
  EXPECT_EQ(s.phase, "Running");
  EXPECT_FALSE(AllHostsReported(s));
  s = MergeHostReport(s, Host("host-0", true));
  EXPECT_EQ(s.phase, "Running");
  s = MergeHostReport(s, Host("host-2", true));
  EXPECT_TRUE(AllHostsReported(s));
  EXPECT_EQ(s.targets[0].phase, "Succeeded");
  // All succeeded: Running until the post-backup actions ran.
  EXPECT_EQ(s.phase, "Running");
  EXPECT_EQ(SessionPhase(s, /*post_actions_done=*/true), "Succeeded");
}

TEST(HostStatusTest, OneFailedHostFailsTheSessionOnceAllReported) {
  apis::BackupSessionStatus s;
  s = MergeHostReport(s, Host("host-0", false));
  // Others still run: not Failed yet.
  EXPECT_EQ(s.targets[0].phase, "Running");
  EXPECT_EQ(s.phase, "Running");
  s = MergeHostReport(s, Host("host-1", true));
  s = MergeHostReport(s, Host("host-2", true));
  EXPECT_EQ(s.targets[0].phase, "Failed");
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(Find(s, "host-0")->error,
            "failed to complete backup for host host-0. Reason: disk gone");
}

TEST(HostStatusTest, AReportReplacesTheHostsEntryAndKeepsTotalHosts) {
  apis::BackupSessionStatus s;
  s = MergeHostReport(s, Host("host-0", false, /*total=*/2));
  // A later report of the same host (re-run) replaces its entry; the
  // totalHosts first written stays (a scale-up meanwhile does not change it).
  s = MergeHostReport(s, Host("host-0", true, /*total=*/5));
  ASSERT_EQ(s.targets[0].stats.size(), 1u);
  EXPECT_EQ(s.targets[0].stats[0].phase, "Succeeded");
  EXPECT_EQ(s.targets[0].total_hosts, 2);
  EXPECT_EQ(s.targets[0].phase, "Running");
}

TEST(HostStatusTest, FalsePostBackupConditionOrFailedHookFailsTheSession) {
  apis::BackupSessionStatus s;
  s = MergeHostReport(s, Host("host-0", true, 1));
  EXPECT_EQ(s.phase, "Running");
  apis::SetCondition(&s.conditions, "RetentionPolicyApplied", false, "FailedToApplyRetentionPolicy",
                     "Failed to apply retention policy.", SystemTime{});
  EXPECT_EQ(SessionPhase(s, true), "Failed");

  apis::BackupSessionStatus hook;
  HostReport r = Host("host-0", true, 2);
  apis::Condition c;
  c.type = "PostBackupHookExecutionSucceeded";
  c.status = "False";
  r.target_conditions = {c};
  hook = MergeHostReport(hook, r);
  EXPECT_EQ(hook.targets[0].phase, "Failed");
  EXPECT_EQ(hook.phase, "Failed");
}

class HostStatusClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Start());
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
      "kind": "BackupSession", "metadata": {"name": "db-backup-1", "namespace": "demo"},
      "spec": {"invoker": {"apiGroup": "stash.appscode.com", "kind": "BackupConfiguration",
        "name": "db-backup"}}})"));
    auto s = apis::Get<BackupSession>(cluster_.client(), "demo", "db-backup-1");
    ASSERT_OK(s);
    apis::BackupSessionStatus running;
    running.phase = "Running";
    apis::BackupTargetStatus t;
    t.ref = Sts();
    t.total_hosts = 3;
    t.phase = "Running";
    running.targets = {t};
    auto written = apis::PatchStatus(cluster_.client(), *s, running);
    ASSERT_OK(written);
    seen_ = *written;
  }
  BackupSession Fresh() {
    auto s = apis::Get<BackupSession>(cluster_.client(), "demo", "db-backup-1");
    EXPECT_OK(s);
    return s.ok() ? *s : BackupSession{};
  }

  TestCluster cluster_;
  BackupSession seen_;  // what every host's informer showed when it started
};

TEST_F(HostStatusClusterTest, AStaleWriteConflictsAndIsMergedAgain) {
  auto first = RecordHostReport(cluster_.client(), seen_, Host("host-0", true), SystemTime{});
  ASSERT_OK(first);
  // host-1 computed its write from the same (now stale) version: the server
  // refuses it, and the retry merges into host-0's write instead of
  // replacing it.
  int attempts = 0;
  auto second = UpdateSessionStatus(cluster_.client(), seen_, [&](apis::BackupSessionStatus* s) {
    ++attempts;
    *s = MergeHostReport(std::move(*s), Host("host-1", true));
    return true;
  });
  ASSERT_OK(second);
  EXPECT_EQ(attempts, 2);
  BackupSession now = Fresh();
  ASSERT_NE(Find(now.status, "host-0"), nullptr);
  ASSERT_NE(Find(now.status, "host-1"), nullptr);
  EXPECT_EQ(Find(now.status, "host-0")->snapshots.at(0).name, "0123abcd");
  EXPECT_EQ(now.status.phase, "Running");

  // The last host fails: Failed at once, with a sessionDuration.
  cluster_.clock().Advance(std::chrono::seconds(65));
  auto last =
      RecordHostReport(cluster_.client(), seen_, Host("host-2", false), cluster_.clock().Now());
  ASSERT_OK(last);
  EXPECT_EQ(last->status.phase, "Failed");
  EXPECT_EQ(last->status.targets.at(0).phase, "Failed");
  EXPECT_EQ(last->status.targets.at(0).stats.size(), 3u);
  EXPECT_FALSE(last->status.session_duration.empty());
  EXPECT_NE(last->status.session_duration, "0s");
}

TEST_F(HostStatusClusterTest, HostsReportingAtOnceAllLandAndTheLastFinishes) {
  // Three hosts report at once from the same stale copy, as replicas
  // finishing together: two of them conflict at least once.
  std::vector<std::thread> hosts;
  std::vector<Status> results(3);
  for (int i = 0; i < 3; ++i) {
    hosts.emplace_back([&, i] {
      results[i] = RecordHostReport(cluster_.client(), seen_,
                                    Host("host-" + std::to_string(i), true), cluster_.clock().Now())
                       .status();
    });
  }
  for (auto& t : hosts) t.join();
  for (const Status& s : results) EXPECT_OK(s);
  BackupSession now = Fresh();
  ASSERT_EQ(now.status.targets.size(), 1u);
  EXPECT_EQ(now.status.targets[0].stats.size(), 3u);
  EXPECT_EQ(now.status.targets[0].phase, "Succeeded");
  EXPECT_EQ(now.status.phase, "Running");  // the post-backup actions are next
  EXPECT_TRUE(AllHostsReported(now.status));

  apis::Condition retention;
  retention.type = "RetentionPolicyApplied";
  retention.status = "True";
  retention.reason = "SuccessfullyAppliedRetentionPolicy";
  auto done = RecordPostBackupActions(cluster_.client(), now, {retention}, cluster_.clock().Now());
  ASSERT_OK(done);
  EXPECT_EQ(done->status.phase, "Succeeded");
  EXPECT_EQ(apis::ConditionStatus(done->status.conditions, "RetentionPolicyApplied"), "True");
}

}  // namespace
}  // namespace stash::agent
