// LeaderLease and LeaseRenewer against the in-process API server: a held
// lease keeps out other replicas only while it is renewed, and a renewer keeps
// it held for as long as the leader is busy.
#include "stash/agent/lease.h"

#include <gtest/gtest.h>

#include "cluster.h"
#include "stash/core/testing.h"

namespace stash::agent {
namespace {

using apis::testing::TestCluster;
using std::chrono::seconds;

class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(cluster_.Start()); }

  LeaderLease Lease(const std::string& who) {
    return LeaderLease(cluster_.client(), cluster_.clock(), "demo", "lock-x", who, seconds(15));
  }
  std::string Holder() {
    auto got = cluster_.client().Get(kube::res::kLeases, "demo", "lock-x");
    return got.ok() ? got->value("/spec/holderIdentity"_json_pointer, "") : "";
  }
  std::string RenewTime() {
    auto got = cluster_.client().Get(kube::res::kLeases, "demo", "lock-x");
    return got.ok() ? got->value("/spec/renewTime"_json_pointer, "") : "";
  }

  TestCluster cluster_;
};

// True when the call succeeded and we hold the lease.
bool Holds(LeaderLease& lease) {
  auto r = lease.TryAcquireOrRenew();
  EXPECT_OK(r);
  return r.ok() && *r;
}

TEST_F(LeaseTest, AnExpiredLeaseGoesToTheNextReplica) {
  LeaderLease a = Lease("pod-a"), b = Lease("pod-b");
  EXPECT_TRUE(Holds(a));
  EXPECT_FALSE(Holds(b));
  cluster_.clock().Advance(seconds(16));
  EXPECT_TRUE(Holds(b));
  EXPECT_FALSE(Holds(a));
}

TEST_F(LeaseTest, ARenewerKeepsTheLeaseWhileTheLeaderIsBusy) {
  LeaderLease a = Lease("pod-a"), b = Lease("pod-b");
  ASSERT_TRUE(Holds(a));
  {
    LeaseRenewer renewer(a, std::chrono::milliseconds(10));
    // Busy for 3 × 10 s of the lease's clock: longer than its 15 s.
    for (int i = 0; i < 3; ++i) {
      cluster_.clock().Advance(seconds(10));
      const std::string want = FormatMicroTime(cluster_.clock().Now());
      ASSERT_TRUE(cluster_.WaitFor([&] { return RenewTime() == want; })) << RenewTime();
    }
    EXPECT_FALSE(Holds(b));
    EXPECT_FALSE(renewer.lost());
  }
  // Once the renewer is gone the lease lapses as before.
  cluster_.clock().Advance(seconds(16));
  EXPECT_TRUE(Holds(b));
}

TEST_F(LeaseTest, ARenewerSaysWhenAnotherReplicaTookTheLease) {
  LeaderLease a = Lease("pod-a"), b = Lease("pod-b");
  ASSERT_TRUE(Holds(a));
  cluster_.clock().Advance(seconds(16));  // a stalled before its renewer started
  ASSERT_TRUE(Holds(b));
  LeaseRenewer renewer(a, std::chrono::milliseconds(10));
  EXPECT_TRUE(cluster_.WaitFor([&] { return renewer.lost(); }));
  // Once lost, it does not take the lease back when b's expires: over twenty
  // of its periods the holder stays pod-b.
  cluster_.clock().Advance(seconds(16));
  EXPECT_FALSE(
      cluster_.WaitFor([&] { return Holder() == "pod-a"; }, std::chrono::milliseconds(200)));
}

}  // namespace
}  // namespace stash::agent
