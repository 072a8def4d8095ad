// Stash's restore rules on real snapshots: backups of a container path read
// through a path map (as the embedded node takes them), restored per host
// into another volume through another map.
#include "stash/engine/restore_rules.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine_fixture.h"
#include "stash/backend/local.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/engine/backup.h"

namespace stash::engine {
namespace {

namespace fs = std::filesystem;

RestoreRule Rule(std::vector<std::string> hosts, std::string source = "",
                 std::vector<std::string> snapshots = {}, std::vector<std::string> paths = {}) {
  RestoreRule r;
  r.target_hosts = std::move(hosts);
  r.source_host = std::move(source);
  r.snapshots = std::move(snapshots);
  r.paths = std::move(paths);
  return r;
}

TEST(RestoreRulesTest, ValidationFollowsStash) {
  EXPECT_OK(ValidateRestoreRules({}));
  EXPECT_OK(ValidateRestoreRules({Rule({"host-1"}, "host-0"), Rule({})}));
  Status two_catch_all = ValidateRestoreRules({Rule({}), Rule({"host-1"}), Rule({})});
  EXPECT_EQ(two_catch_all.code(), Code::kInvalid);
  EXPECT_NE(two_catch_all.message().find("rule 1 and rule 3"), std::string::npos)
      << two_catch_all.message();
  Status twice = ValidateRestoreRules({Rule({"host-0", "host-1"}), Rule({"host-2", "host-1"})});
  EXPECT_EQ(twice.code(), Code::kInvalid);
  EXPECT_NE(twice.message().find("\"host-1\""), std::string::npos) << twice.message();
  Status both = ValidateRestoreRules({Rule({}, "", {"1a2b3c4d"}, {"/data"})});
  EXPECT_EQ(both.code(), Code::kInvalid);
  EXPECT_NE(both.message().find("snapshots and paths"), std::string::npos) << both.message();
  RestoreRule bad_pattern = Rule({});
  bad_pattern.include = {"[x"};
  EXPECT_EQ(ValidateRestoreRules({bad_pattern}).code(), Code::kInvalid);
  EXPECT_EQ(ValidateRestoreRules({Rule({}, "", {}, {"relative/path"})}).code(), Code::kInvalid);
}

TEST(RestoreRulesTest, RuleSelectionPrefersTheHostsOwnRule) {
  std::vector<RestoreRule> rules = {Rule({}, "host-0"), Rule({"host-2"}, "host-1")};
  EXPECT_EQ(RuleForHost(rules, "host-2")->source_host, "host-1");
  EXPECT_EQ(RuleForHost(rules, "host-1")->source_host, "host-0");
  EXPECT_FALSE(RuleForHost({Rule({"host-2"})}, "host-0").has_value());
  auto none = RuleForHost({}, "host-3");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->snapshots.empty() && none->paths.empty() && none->source_host.empty());
}

TEST(RestoreRulesTest, HostNamesAsStash) {
  EXPECT_EQ(StashHostName("StatefulSet", "db-12", "node-a"), "host-12");
  EXPECT_EQ(StashHostName("StatefulSet", "my-db-0", "node-a"), "host-0");
  EXPECT_EQ(StashHostName("StatefulSet", "nodash", "node-a"), "host-0");
  EXPECT_EQ(StashHostName("DaemonSet", "agent-x7k2p", "node-a"), "node-a");
  EXPECT_EQ(StashHostName("Deployment", "web-5d4c-x7k2p", "node-a"), "host-0");
  EXPECT_EQ(StashHostName("PersistentVolumeClaim", "", ""), "host-0");
}

// A real clock: the snapshots of a test must have distinct times.
class RestoreHostTest : public testing::RepoTest<RealClock> {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(InitRepository(Where::kDisk));
  }

  static void Write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::trunc) << text;
  }
  static std::string Read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  // Backs up the host directory `volume` as the container's /source/data.
  Id BackUp(const std::string& volume, const std::string& host, int64_t at) {
    BackupOptions opts;
    opts.paths = {"/source/data"};
    opts.hostname = host;
    opts.time = SystemTime(std::chrono::seconds(at));
    opts.path_map.Add("/source/data", volume);
    auto stats = Backup(*repo_, opts, clock_, nullptr, nullptr);
    EXPECT_OK(stats);
    return stats.ok() ? stats->snapshot_id : Id();
  }

  Result<HostRestoreResult> Restore(const std::vector<RestoreRule>& rules, const std::string& host,
                                    const std::string& into) {
    HostRestoreOptions opts;
    opts.clock = &clock_;
    opts.path_map.Add("/source/data", into);
    return RestoreHost(*repo_, rules, host, opts);
  }
};

TEST_F(RestoreHostTest, PathsTakeTheLatestSnapshotOfTheSourceHost) {
  const std::string a = dir_ + "/vol-a", b = dir_ + "/vol-b";
  Write(a + "/data.txt", "first");
  Id first = BackUp(a, "host-0", 1700000000);
  Write(a + "/data.txt", "second");
  BackUp(a, "host-0", 1700000100);
  Write(b + "/data.txt", "other host");
  BackUp(b, "host-1", 1700000200);  // newest overall, but another host's

  const std::string into = dir_ + "/restored";
  Write(into + "/data.txt", "changed since");
  auto r = Restore({Rule({}, "", {}, {"/source/data"})}, "host-0", into);
  ASSERT_OK(r);
  EXPECT_EQ(Read(into + "/data.txt"), "second");
  ASSERT_EQ(r->restored.size(), 1u);
  EXPECT_EQ(r->stats.files, 1u);

  // sourceHost takes another host's backup; an id its snapshot as it is.
  ASSERT_OK(Restore({Rule({"host-2"}, "host-1", {}, {"/source/data"}), Rule({})}, "host-2", into));
  EXPECT_EQ(Read(into + "/data.txt"), "other host");
  ASSERT_OK(Restore({Rule({}, "", {first.Hex().substr(0, 8)})}, "host-7", into));
  EXPECT_EQ(Read(into + "/data.txt"), "first");
  // No rule for the host: nothing happens.
  Write(into + "/data.txt", "untouched");
  auto skipped = Restore({Rule({"host-1"})}, "host-0", into);
  ASSERT_OK(skipped);
  EXPECT_FALSE(skipped->selected);
  EXPECT_EQ(Read(into + "/data.txt"), "untouched");
}

TEST_F(RestoreHostTest, IncludeAndExcludeSelectFiles) {
  const std::string a = dir_ + "/vol";
  Write(a + "/keep/x.txt", "x");
  Write(a + "/skip/y.txt", "y");
  BackUp(a, "host-0", 1700000000);
  RestoreRule rule = Rule({});
  rule.exclude = {"/source/data/skip"};
  const std::string into = dir_ + "/restored";
  ASSERT_OK(Restore({rule}, "host-0", into));
  EXPECT_EQ(Read(into + "/keep/x.txt"), "x");
  EXPECT_FALSE(fs::exists(into + "/skip"));
  rule.exclude.clear();
  rule.include = {"/source/data/skip/*"};
  const std::string into2 = dir_ + "/restored2";
  ASSERT_OK(Restore({rule}, "host-0", into2));
  EXPECT_EQ(Read(into2 + "/skip/y.txt"), "y");
  EXPECT_FALSE(fs::exists(into2 + "/keep"));
}

TEST_F(RestoreHostTest, FailuresNameTheProblem) {
  const std::string a = dir_ + "/vol";
  Write(a + "/f", "data");
  BackUp(a, "host-0", 1700000000);
  const std::string into = dir_ + "/restored";
  auto missing = Restore({Rule({}, "", {"deadbeef"})}, "host-0", into);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("deadbeef"), std::string::npos);
  auto no_path = Restore({Rule({}, "", {}, {"/source/other"})}, "host-0", into);
  ASSERT_FALSE(no_path.ok());
  EXPECT_NE(no_path.status().message().find("/source/other from host host-0"), std::string::npos)
      << no_path.status().message();
  auto no_host = Restore({}, "host-9", into);
  ASSERT_FALSE(no_host.ok());
  EXPECT_NE(no_host.status().message().find("host-9"), std::string::npos);

  // A volume mounted elsewhere than where the backup was taken.
  HostRestoreOptions opts;
  opts.clock = &clock_;
  opts.path_map.Add("/restore/data", into);
  auto outside = RestoreHost(*repo_, {}, "host-0", opts);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find(
                "/source is not inside any volume mounted into the restore target"),
            std::string::npos)
      << outside.status().message();
}

}  // namespace
}  // namespace stash::engine
