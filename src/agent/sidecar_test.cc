// The backup sidecar against an in-process API server with a ManualClock and
// the in-process engine on a local repository: paused ticks, instant
// sessions while paused, resume, the history limit, a wrong password and a
// restart in the middle of a session, as a user sees them in the objects.
#include "stash/agent/sidecar.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "cluster.h"
#include "stash/agent/engine_runner.h"
#include "stash/agent/trigger.h"
#include "stash/apis/backup.h"
#include "stash/apis/client.h"
#include "stash/apis/coordination.h"
#include "stash/apis/informer.h"
#include "stash/apis/repository.h"
#include "stash/backend/factory.h"
#include "stash/core/testing.h"
#include "stash/engine/lock.h"
#include "stash/engine/snapshots.h"
#include "stash/format/lock.h"
#include "stash/kube/informer.h"
#include "stash/kube/stash_names.h"
#include "stash/repo/repository.h"

namespace stash::agent {
namespace {

using apis::BackupConfiguration;
using apis::BackupSession;
using apis::testing::TestCluster;
namespace fs = std::filesystem;

class SidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(cluster_.Start());
    source_ = cluster_.dir() + "/source";
    repo_dir_ = cluster_.dir() + "/repo";
    fs::create_directories(source_);
    std::ofstream(source_ + "/data.txt") << "sample_data\n";
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "v1", "kind": "Secret",
      "metadata": {"name": "repo-secret", "namespace": "demo"},
      "data": {"RESTIC_PASSWORD": "Y2hhbmdlaXQ="}})"));
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1alpha1",
      "kind": "Repository", "metadata": {"name": "local-repo", "namespace": "demo"},
      "spec": {"backend": {"storageSecretName": "repo-secret",
        "local": {"mountPath": "/safe/data", "hostPath": {"path": ")" +
                             repo_dir_ + R"("}}}}})"));
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
      "kind": "BackupConfiguration", "metadata": {"name": "pause-backup", "namespace": "demo"},
      "spec": {"repository": {"name": "local-repo"}, "schedule": "*/5 * * * *",
        "paused": true, "backupHistoryLimit": 1,
        "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
          "paths": ["/source/data"]},
        "retentionPolicy": {"name": "keep-last-2", "keepLast": 2, "prune": true}}})"));
    // The operator's verdict, which the sidecar waits for.
    auto bc = Bc();
    ASSERT_OK(bc);
    apis::BackupConfigurationStatus ready;
    ready.phase = "Ready";
    ASSERT_OK(apis::PatchStatus(cluster_.client(), *bc, ready));
    EngineRunnerOptions opts;
    opts.repo.scrypt_n = 1024;  // a fast key; the cost is not what is tested
    runner_ = std::make_unique<EngineBackupRunner>(cluster_.clock(), random_, opts);
  }

  void TearDown() override { StopSidecar(); }

  SidecarOptions Options() {
    SidecarOptions o;
    o.ns = "demo";
    o.invoker_name = "pause-backup";
    o.target_kind = "Deployment";
    o.target_name = "stash-demo";
    o.target_ns = "demo";
    o.pod_name = "stash-demo-abc-12345";
    o.data_dir = cluster_.dir();  // embedded mode: the hostPath is on this host
    o.path_map.Add("/source/data", source_);
    return o;
  }
  void StartSidecar() {
    stop_ = false;
    sidecar_ =
        std::make_unique<BackupSidecar>(cluster_.client(), cluster_.clock(), *runner_, Options());
    done_ = false;
    thread_ = std::thread([this] {
      result_ = sidecar_->Run(stop_);
      done_ = true;
    });
  }
  void StopSidecar() {
    stop_ = true;
    kube::JoinWaking(cluster_.clock(), thread_, done_);
  }

  Result<BackupConfiguration> Bc() {
    return apis::Get<BackupConfiguration>(cluster_.client(), "demo", "pause-backup");
  }
  void SetPaused(bool paused) {
    auto bc = Bc();
    ASSERT_OK(bc);
    ASSERT_OK(apis::MergePatch<BackupConfiguration>(cluster_.client(), bc->metadata,
                                                    {{"spec", {{"paused", paused}}}}));
  }
  // What the trigger CronJob does at a tick (a second later each time, so
  // the session names differ).
  Result<std::string> Tick() {
    cluster_.clock().Advance(std::chrono::seconds(1));
    TriggerOptions t;
    t.ns = "demo";
    t.invoker_name = "pause-backup";
    return CreateBackupSession(cluster_.client(), cluster_.clock(), t);
  }
  std::optional<BackupSession> WaitSession(const std::string& name, const std::string& phase) {
    std::optional<BackupSession> out;
    cluster_.WaitFor([&] {
      auto s = apis::Get<BackupSession>(cluster_.client(), "demo", name);
      if (s.ok() && s->status.phase == phase) out = *s;
      return out.has_value();
    });
    return out;
  }
  std::vector<apis::Event> Events(const std::string& reason) {
    return cluster_.Events("demo", reason);
  }
  void SetPassword(const std::string& password) {
    auto secret = apis::Get<apis::Secret>(cluster_.client(), "demo", "repo-secret");
    ASSERT_OK(secret);
    secret->data.insert_or_assign("RESTIC_PASSWORD", password);
    ASSERT_OK(apis::Update(cluster_.client(), *secret));
  }
  Result<std::unique_ptr<repo::Repository>> OpenRepository() {
    repo::Options opts;
    opts.clock = &cluster_.clock();
    opts.random = &random_;
    STASH_ASSIGN_OR_RETURN(backend::BackendPtr store,
                           backend::OpenBackend(repo_dir_, {}, cluster_.clock(), random_));
    return repo::Repository::Open(std::move(store), "changeit", opts);
  }
  size_t SessionCount() { return apis::List<BackupSession>(cluster_.client(), "demo")->size(); }

  TestCluster cluster_;
  SeededRandom random_{7};
  std::string source_, repo_dir_;
  std::unique_ptr<EngineBackupRunner> runner_;
  std::unique_ptr<BackupSidecar> sidecar_;
  std::atomic<bool> stop_{false}, done_{false};
  std::thread thread_;
  Status result_;
};

TEST_F(SidecarTest, PausedTickCreatesNoSessionAndWritesTheGuidesEvent) {
  auto made = Tick();
  ASSERT_OK(made);
  EXPECT_EQ(*made, "");
  EXPECT_EQ(SessionCount(), 0u);
  std::vector<apis::Event> skipped = Events("Backup Skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].type, "Normal");
  EXPECT_EQ(skipped[0].source.component, "Backup Triggering CronJob");
  EXPECT_EQ(skipped[0].message,
            "Skipping creating BackupSession. Reason: Backup Configuration demo/pause-backup is "
            "paused.");
  EXPECT_EQ(skipped[0].involved_object.kind, "BackupConfiguration");
  ASSERT_OK(Tick());
  EXPECT_TRUE(cluster_.WaitFor([&] {
    auto e = Events("Backup Skipped");
    return e.size() == 1 && e[0].count == 2;  // a repeat bumps the count
  }));
}

TEST_F(SidecarTest, AnInstantSessionWhilePausedIsSkippedThenResumeBacksUp) {
  StartSidecar();
  ASSERT_OK(cluster_.Apply(R"({"apiVersion": "stash.appscode.com/v1beta1",
    "kind": "BackupSession", "metadata": {"name": "instant-backupsession", "namespace": "demo",
      "labels": {"stash.appscode.com/backup-configuration": "pause-backup"}},
    "spec": {"invoker": {"apiGroup": "stash.appscode.com", "kind": "BackupConfiguration",
                         "name": "pause-backup"}}})"));
  ASSERT_TRUE(WaitSession("instant-backupsession", "Skipped"));
  ASSERT_TRUE(cluster_.WaitFor([&] { return !Events("BackupSessionSkipped").empty(); }));
  apis::Event e = Events("BackupSessionSkipped")[0];
  EXPECT_EQ(e.type, "Warning");
  EXPECT_EQ(e.source.component, "BackupSession Controller");
  EXPECT_EQ(e.message, "Backup Configuration is paused");

  SetPaused(false);
  ASSERT_TRUE(cluster_.WaitFor([&] { return !Bc()->spec.paused; }));
  auto name = Tick();
  ASSERT_OK(name);
  ASSERT_NE(*name, "");
  auto done = WaitSession(*name, "Succeeded");
  ASSERT_TRUE(done) << "session " << *name;
  const apis::HostBackupStats& host = done->status.targets.at(0).stats.at(0);
  EXPECT_EQ(host.hostname, "host-0");
  EXPECT_EQ(host.phase, "Succeeded");
  ASSERT_EQ(host.snapshots.size(), 1u);
  EXPECT_EQ(host.snapshots[0].path, "/source/data");
  EXPECT_EQ(host.snapshots[0].name.size(), 8u);
  EXPECT_EQ(host.snapshots[0].file_stats.new_files, 1);
  EXPECT_FALSE(done->status.session_duration.empty());
  for (const apis::Condition& c : done->status.conditions) EXPECT_EQ(c.status, "True") << c.type;
  auto repo = apis::Get<apis::Repository>(cluster_.client(), "demo", "local-repo");
  ASSERT_OK(repo);
  EXPECT_EQ(repo->status.integrity, true);
  EXPECT_EQ(repo->status.snapshot_count, 1);
  EXPECT_EQ(repo->status.last_backup_time, done->metadata.creation_timestamp);
  EXPECT_TRUE(cluster_.WaitFor([&] { return !Events("Host Backup Succeeded").empty(); }));
}

TEST_F(SidecarTest, HistoryLimitKeepsTheLatestFinishedSession) {
  SetPaused(false);
  StartSidecar();
  std::string last;
  for (int i = 0; i < 3; ++i) {
    auto name = Tick();
    ASSERT_OK(name);
    ASSERT_TRUE(WaitSession(*name, "Succeeded")) << *name;
    last = *name;
  }
  // backupHistoryLimit 1: only the newest finished session is left.
  ASSERT_TRUE(cluster_.WaitFor([&] { return SessionCount() == 1; }));
  EXPECT_OK(apis::Get<BackupSession>(cluster_.client(), "demo", last));
  // keepLast 2 with prune: three backups leave two snapshots.
  auto repo = apis::Get<apis::Repository>(cluster_.client(), "demo", "local-repo");
  ASSERT_OK(repo);
  EXPECT_EQ(repo->status.snapshot_count, 2);
  EXPECT_EQ(repo->status.snapshots_removed_on_last_cleanup, 1);
}

TEST_F(SidecarTest, AWrongPasswordFailsTheSessionAndSaysSo) {
  SetPaused(false);
  // The repository is made with one password; then the Secret says another.
  SetPassword("something-else");
  StartSidecar();
  auto first = Tick();
  ASSERT_OK(first);
  ASSERT_TRUE(WaitSession(*first, "Succeeded"));
  SetPassword("changeit");
  auto second = Tick();
  ASSERT_OK(second);
  auto failed = WaitSession(*second, "Failed");
  ASSERT_TRUE(failed);
  const std::string& error = failed->status.targets.at(0).stats.at(0).error;
  EXPECT_NE(error.find("wrong password"), std::string::npos) << error;
  const apis::Condition* init =
      apis::FindCondition(failed->status.conditions, "BackendRepositoryInitialized");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->status, "False");
  EXPECT_TRUE(cluster_.WaitFor([&] { return !Events("Host Backup Failed").empty(); }));
}

TEST_F(SidecarTest, ARestartMidSessionFailsItAndClearsTheStaleLock) {
  SetPaused(false);
  // A backup that was running when its sidecar was killed: the session says
  // Running and the repository holds that process's lock.
  {
    StartSidecar();
    auto name = Tick();
    ASSERT_OK(name);
    ASSERT_TRUE(WaitSession(*name, "Succeeded"));  // the repository exists
    StopSidecar();
    ASSERT_OK(result_);
  }
  auto interrupted = Tick();
  ASSERT_OK(interrupted);
  auto bs = apis::Get<BackupSession>(cluster_.client(), "demo", *interrupted);
  ASSERT_OK(bs);
  apis::BackupSessionStatus running;
  running.phase = "Running";
  ASSERT_OK(apis::PatchStatus(cluster_.client(), *bs, running));
  format::Lock dead;
  dead.time = format::LocalTimestamp(cluster_.clock().Now());
  dead.hostname = engine::LockOwner::Current().hostname;
  dead.username = "root";
  dead.pid = 999999999;  // no such process
  auto repo = OpenRepository();
  ASSERT_OK(repo);
  ASSERT_OK((*repo)->SaveUnpacked(backend::FileType::kLock, format::EncodeLock(dead)));
  ASSERT_EQ(engine::ListLocks(**repo)->size(), 1u);
  StartSidecar();
  auto failed = WaitSession(*interrupted, "Failed");
  ASSERT_TRUE(failed);
  const apis::BackupTargetStatus& target = failed->status.targets.at(0);
  EXPECT_NE(target.stats.at(0).error.find("interrupted"), std::string::npos);
  EXPECT_EQ(target.conditions.at(0).type, "BackupDisrupted");
  EXPECT_FALSE(failed->status.session_duration.empty());
  EXPECT_TRUE(cluster_.WaitFor([&] { return engine::ListLocks(**repo)->empty(); }));
  // The next session runs; its prune needs the exclusive lock the dead
  // backup's lock would have blocked.
  auto next = Tick();
  ASSERT_OK(next);
  EXPECT_TRUE(WaitSession(*next, "Succeeded"));
}

// A StatefulSet of three replicas, each with its own volume (a directory
// per replica here, as the embedded node maps each pod's claim): every
// replica's sidecar backs up its own data as host-<ordinal>, without a Lease.
class StatefulSetSidecarTest : public SidecarTest {
 protected:
  static constexpr int kReplicas = 3;
  void SetUp() override {
    SidecarTest::SetUp();
    ASSERT_OK(cluster_.Apply(R"({"apiVersion": "apps/v1", "kind": "StatefulSet",
      "metadata": {"name": "db", "namespace": "demo"},
      "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}},
          "spec": {"containers": [{"name": "db", "image": "busybox"}]}}}})"));
    auto bc = Bc();
    ASSERT_OK(bc);
    ASSERT_OK(apis::MergePatch<BackupConfiguration>(
        cluster_.client(), bc->metadata,
        {{"spec",
          {{"paused", false},
           {"retentionPolicy", {{"name", "keep-last-1"}, {"keepLast", 1}, {"prune", true}}},
           {"target",
            {{"ref", {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", "db"}}},
             {"paths", {"/source/data"}}}}}}}));
    ASSERT_TRUE(cluster_.WaitFor([&] { return Bc()->spec.target->ref.kind == "StatefulSet"; }));
    for (int i = 0; i < kReplicas; ++i) {
      const std::string dir = cluster_.dir() + "/source-" + std::to_string(i);
      fs::create_directories(dir);
      std::ofstream(dir + "/data.txt") << "replica " << i << " data\n";
    }
  }
  void TearDown() override {
    for (auto& r : replicas_) r.stop = true;
    for (auto& r : replicas_) kube::JoinWaking(cluster_.clock(), r.thread, r.done);
    SidecarTest::TearDown();
  }
  struct Replica {
    std::unique_ptr<BackupSidecar> sidecar;
    std::atomic<bool> stop{false}, done{false};
    std::thread thread;
    Status result;
  };
  void StartReplicas() {
    for (int i = 0; i < kReplicas; ++i) {
      SidecarOptions o = Options();
      o.target_kind = "StatefulSet";
      o.target_name = "db";
      o.pod_name = "db-" + std::to_string(i);
      o.path_map = PathMap();
      o.path_map.Add("/source/data", cluster_.dir() + "/source-" + std::to_string(i));
      Replica& r = replicas_[i];
      r.sidecar = std::make_unique<BackupSidecar>(cluster_.client(), cluster_.clock(), *runner_, o);
      r.thread = std::thread([&r] {
        r.result = r.sidecar->Run(r.stop);
        r.done = true;
      });
    }
  }
  Replica replicas_[kReplicas];
};

TEST_F(StatefulSetSidecarTest, EachReplicaBacksUpItsOwnVolumeAsItsHost) {
  StartReplicas();
  std::optional<BackupSession> done;
  for (int round = 0; round < 2; ++round) {
    auto name = Tick();
    ASSERT_OK(name);
    done = WaitSession(*name, "Succeeded");
    ASSERT_TRUE(done) << *name;
  }
  const apis::BackupTargetStatus& target = done->status.targets.at(0);
  EXPECT_EQ(target.ref.kind, "StatefulSet");
  EXPECT_EQ(target.total_hosts, kReplicas);
  EXPECT_EQ(target.phase, "Succeeded");
  std::set<std::string> hosts;
  for (const apis::HostBackupStats& h : target.stats) {
    hosts.insert(h.hostname);
    EXPECT_EQ(h.phase, "Succeeded") << h.hostname;
    ASSERT_EQ(h.snapshots.size(), 1u) << h.hostname;
    EXPECT_EQ(h.snapshots[0].path, "/source/data");
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"host-0", "host-1", "host-2"}));
  EXPECT_EQ(apis::ConditionStatus(done->status.conditions, "RetentionPolicyApplied"), "True");
  EXPECT_FALSE(done->status.progress.has_value());
  // No replica took the Deployment's Lease.
  EXPECT_EQ(apis::Get<apis::Lease>(cluster_.client(), "demo", replicas_[0].sidecar->LeaseName())
                .status()
                .code(),
            Code::kNotFound);
  // keepLast 1 per host and paths (restic forget's grouping): two rounds
  // leave one snapshot of each host, each with its replica's data.
  auto repo = OpenRepository();
  ASSERT_OK(repo);
  auto snapshots = engine::LoadSnapshots(**repo, {}, [](const std::string&) {});
  ASSERT_OK(snapshots);
  std::map<std::string, int> per_host;
  for (const auto& s : *snapshots) ++per_host[s.snapshot.hostname];
  EXPECT_EQ(per_host, (std::map<std::string, int>{{"host-0", 1}, {"host-1", 1}, {"host-2", 1}}));
  auto status = apis::Get<apis::Repository>(cluster_.client(), "demo", "local-repo");
  ASSERT_OK(status);
  EXPECT_EQ(status->status.snapshot_count, 3);
}

TEST_F(StatefulSetSidecarTest, OneFailedReplicaFailsTheSessionOnceAllReported) {
  fs::remove_all(cluster_.dir() + "/source-1");  // host-1's volume is gone
  StartReplicas();
  auto name = Tick();
  ASSERT_OK(name);
  auto failed = WaitSession(*name, "Failed");
  ASSERT_TRUE(failed);
  const apis::BackupTargetStatus& target = failed->status.targets.at(0);
  EXPECT_EQ(target.phase, "Failed");
  ASSERT_EQ(target.stats.size(), 3u);
  for (const apis::HostBackupStats& h : target.stats) {
    EXPECT_EQ(h.phase, h.hostname == "host-1" ? "Failed" : "Succeeded") << h.hostname;
    if (h.hostname == "host-1") {
      EXPECT_EQ(h.error.rfind("failed to complete backup for host host-1. Reason: ", 0), 0u)
          << h.error;
    }
  }
  // No retention on a failed session.
  EXPECT_EQ(apis::FindCondition(failed->status.conditions, "RetentionPolicyApplied"), nullptr);
  // Each host backed up once (a replica's stale cache does not make it run
  // its host again), the failed one not at all.
  auto repo = OpenRepository();
  ASSERT_OK(repo);
  auto snapshots = engine::LoadSnapshots(**repo, {}, [](const std::string&) {});
  ASSERT_OK(snapshots);
  std::map<std::string, int> per_host;
  for (const auto& s : *snapshots) ++per_host[s.snapshot.hostname];
  EXPECT_EQ(per_host, (std::map<std::string, int>{{"host-0", 1}, {"host-2", 1}}));
}

}  // namespace
}  // namespace stash::agent

namespace stash::agent {
namespace {

// The readinessProbe's verdict: Ready unless the sidecar wrote its file,
// whose words the probe repeats.
TEST(SidecarReadinessTest, FailsWithTheSidecarsWordsWhileItsFileExists) {
  const std::string file = ::testing::TempDir() + "/not-ready-" + std::to_string(::getpid());
  std::filesystem::remove(file);
  EXPECT_OK(SidecarReadiness(file));
  std::ofstream(file) << "leases \"lock\" is forbidden\n";
  Status s = SidecarReadiness(file);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("leases \"lock\" is forbidden"), std::string::npos) << s.message();
  std::filesystem::remove(file);
  EXPECT_OK(SidecarReadiness(file));
}

// A cache whose list the API server refuses says so to its owner (the
// sidecar reports it), and says nothing once lists work.
TEST(InformerErrorTest, ARefusedListIsReportedToTheOwner) {
  TestCluster cluster;
  ASSERT_OK(cluster.Start());
  RealClock clock;  // the informer's retry sleeps
  apis::Informer<BackupSession> ok(cluster.client(), "demo", {}, clock);
  kube::KubeConfig cfg = cluster.client().config();
  cfg.token = "not-a-token";
  kube::Client stranger(cfg);
  apis::Informer<BackupSession> refused(stranger, "demo", {}, clock);
  ok.Start();
  refused.Start();
  EXPECT_TRUE(cluster.WaitFor([&] { return ok.synced(); }));
  EXPECT_TRUE(cluster.WaitFor([&] { return refused.error().code() == Code::kUnauthorized; }))
      << refused.error().ToString();
  EXPECT_NE(refused.error().message().find("listing backupsessions"), std::string::npos)
      << refused.error().message();
  EXPECT_FALSE(refused.synced());
  EXPECT_OK(ok.error());
  ok.Stop();
  refused.Stop();
}

}  // namespace
}  // namespace stash::agent
