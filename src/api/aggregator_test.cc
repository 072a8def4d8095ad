// Aggregator::Check: the Available condition's reasons and messages as
// kube-aggregator's availability controller gives them.
#include "aggregator.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_fixture.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

// A TCP port on 127.0.0.1 where nothing listens (bound, then closed).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class AggregatorCheckTest : public testing::StoreTest {
 protected:
  AggregatorCheckTest() : StoreTest(SystemTime(std::chrono::seconds(1700000000))) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StoreTest::SetUp());
    auto proxy = EnsureFrontProxyCredentials(dir_.string(), clock_, random_);
    ASSERT_OK(proxy);
    aggregator_ = std::make_unique<Aggregator>(*store_, *proxy, clock_);
  }
  void TearDown() override {
    aggregator_.reset();
    StoreTest::TearDown();
  }
  void Put(const std::string& resource, const std::string& ns, const std::string& name,
           const json& obj) {
    ASSERT_OK(store_->Mutate(resource, ns, name,
                             [&](const json*) -> Result<Mutation> { return Mutation::Put(obj); }));
  }
  static json ApiService() {
    return json::parse(R"({"metadata":{"name":"v1.g.example.com"},"spec":{
        "group":"g.example.com","version":"v1","insecureSkipTLSVerify":true,
        "service":{"namespace":"ns","name":"svc","port":443}}})");
  }

  std::unique_ptr<Aggregator> aggregator_;
};

TEST_F(AggregatorCheckTest, ReasonsFromServiceToBackend) {
  Availability a = aggregator_->Check(json::parse(R"({"spec":{"group":"g","version":"v1"}})"));
  EXPECT_TRUE(a.available);
  EXPECT_EQ(a.reason, "Local");

  a = aggregator_->Check(ApiService());
  EXPECT_FALSE(a.available);
  EXPECT_EQ(a.reason, "ServiceNotFound");
  EXPECT_EQ(a.message, "service/svc in \"ns\" is not present");

  Put("/services", "ns", "svc", json::parse(R"({"metadata":{"name":"svc","namespace":"ns"},
      "spec":{"ports":[{"name":"https","port":8443}]}})"));
  a = aggregator_->Check(ApiService());
  EXPECT_EQ(a.reason, "ServicePortError");
  EXPECT_EQ(a.message, "service/svc in \"ns\" is not listening on port 443");

  Put("/services", "ns", "svc", json::parse(R"({"metadata":{"name":"svc","namespace":"ns"},
      "spec":{"ports":[{"name":"https","port":443}]}})"));
  a = aggregator_->Check(ApiService());
  EXPECT_EQ(a.reason, "EndpointsNotFound");
  EXPECT_EQ(a.message, "cannot find endpoints for service/svc in \"ns\"");

  const int port = ClosedPort();
  json ep = json::parse(R"({"metadata":{"name":"svc","namespace":"ns"},"subsets":[
      {"notReadyAddresses":[{"ip":"127.0.0.1"}],"ports":[{"name":"https","port":0}]}]})");
  ep["subsets"][0]["ports"][0]["port"] = port;
  Put("/endpoints", "ns", "svc", ep);
  a = aggregator_->Check(ApiService());
  EXPECT_EQ(a.reason, "MissingEndpoints");
  EXPECT_EQ(a.message,
            "endpoints for service/svc in \"ns\" have no addresses with port name \"https\"");

  ep["subsets"][0]["addresses"] = ep["subsets"][0]["notReadyAddresses"];
  ep["subsets"][0].erase("notReadyAddresses");
  Put("/endpoints", "ns", "svc", ep);
  a = aggregator_->Check(ApiService());
  EXPECT_FALSE(a.available);
  EXPECT_EQ(a.reason, "FailedDiscoveryCheck");
  const std::string prefix =
      "failing or missing response from https://127.0.0.1:" + std::to_string(port) +
      "/apis/g.example.com/v1: ";
  EXPECT_EQ(a.message.substr(0, prefix.size()), prefix) << a.message;
}

}  // namespace
}  // namespace stash::api
