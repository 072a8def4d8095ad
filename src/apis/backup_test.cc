// The pure rules about BackupSessions shared by the operator and the sidecar.
#include "stash/apis/backup.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "stash/kube/stash_names.h"

namespace stash::apis {
namespace {

std::shared_ptr<const BackupSession> Session(const std::string& name, const std::string& created,
                                             const std::string& phase) {
  BackupSession s;
  s.metadata.name = name;
  s.metadata.creation_timestamp = created;
  s.status.phase = phase;
  return std::make_shared<const BackupSession>(std::move(s));
}

TEST(SessionsBeyondHistoryLimit, SkippedSessionsArePrunedOldestFirst) {
  std::vector<std::shared_ptr<const BackupSession>> s = {
      Session("a", "2026-01-01T00:00:03Z", "Skipped"),
      Session("b", "2026-01-01T00:00:01Z", "Skipped"),
      Session("c", "2026-01-01T00:00:04Z", "Skipped"),
      Session("d", "2026-01-01T00:00:02Z", "Skipped"),
  };
  EXPECT_EQ(SessionsBeyondHistoryLimit(s, 2), (std::vector<std::string>{"d", "b"}));
  EXPECT_EQ(SessionsBeyondHistoryLimit(s, 4), std::vector<std::string>{});
  EXPECT_EQ(SessionsBeyondHistoryLimit(s, 0).size(), 4u);
}

TEST(SessionsBeyondHistoryLimit, KeepsTheLastRealRunAndUnfinishedSessions) {
  std::vector<std::shared_ptr<const BackupSession>> s = {
      Session("ok", "2026-01-01T00:00:01Z", "Succeeded"),
      Session("old-fail", "2026-01-01T00:00:00Z", "Failed"),
      Session("running", "2026-01-01T00:00:02Z", "Running"),
      Session("skip-1", "2026-01-01T00:00:03Z", "Skipped"),
      Session("skip-2", "2026-01-01T00:00:04Z", "Skipped"),
  };
  // Limit 1: skip-2 is kept by the limit, "ok" as the newest real run,
  // "running" because it is not over.
  EXPECT_EQ(SessionsBeyondHistoryLimit(s, 1), (std::vector<std::string>{"skip-1", "old-fail"}));
}

TEST(SessionsBeyondHistoryLimit, SameSecondOrdersByName) {
  std::vector<std::shared_ptr<const BackupSession>> s = {
      Session("x-2", "2026-01-01T00:00:00Z", "Skipped"),
      Session("x-1", "2026-01-01T00:00:00Z", "Skipped"),
      Session("x-3", "2026-01-01T00:00:00Z", "Skipped"),
  };
  EXPECT_EQ(SessionsBeyondHistoryLimit(s, 2), std::vector<std::string>{"x-1"});
}

TEST(IsSessionOf, ByInvokerOrEitherLabel) {
  BackupSession s;
  s.spec.invoker.name = "bc";
  EXPECT_TRUE(IsSessionOf(s, "BackupConfiguration", "bc"));  // kind defaults to the caller's
  s.spec.invoker.kind = "BackupConfiguration";
  EXPECT_FALSE(IsSessionOf(s, "BackupBatch", "bc"));
  EXPECT_FALSE(IsSessionOf(s, "BackupConfiguration", "other"));
  BackupSession guide;  // the guide's instant session: one label, no invoker
  guide.metadata.labels[std::string(kube::kLabelBackupConfiguration)] = "pause-backup";
  EXPECT_TRUE(IsSessionOf(guide, "BackupConfiguration", "pause-backup"));
  BackupSession tick;
  tick.metadata.labels[std::string(kube::kLabelInvokerName)] = "pause-backup";
  EXPECT_TRUE(IsSessionOf(tick, "BackupConfiguration", "pause-backup"));
}

}  // namespace
}  // namespace stash::apis
