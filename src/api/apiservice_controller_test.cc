// The APIService availability controller on a real store: the condition it
// writes, when it writes it, and lastTransitionTime kept while the status
// stays.
#include "apiservice_controller.h"

#include <gtest/gtest.h>

#include <thread>

#include "aggregator.h"
#include "server_fixture.h"
#include "stash/api/table.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

class ApiServiceControllerTest : public testing::ApiHandlerTest {
 protected:
  ApiServiceControllerTest() : ApiHandlerTest(*ParseTimestamp("2026-12-07T10:00:00Z")) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ApiHandlerTest::SetUp());
    auto proxy = EnsureFrontProxyCredentials(dir_.string(), clock_, random_);
    ASSERT_OK(proxy);
    aggregator_ = std::make_unique<Aggregator>(*store_, *proxy, clock_);
    handler_->SetAggregator(aggregator_.get());
    manager_ = std::make_unique<ControllerManager>(*store_, registry_, *handler_, clock_,
                                                   ControllerOptions{});
    ASSERT_OK(manager_->Start(/*run_thread=*/false));
    ASSERT_OK(Create("", "namespaces", "", json::parse(R"({"metadata":{"name":"ns"}})")));
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
    manager_.reset();
    handler_.reset();  // it points at aggregator_
    aggregator_.reset();
    ApiHandlerTest::TearDown();
  }
  Result<json> Create(const std::string& group, const std::string& resource, const std::string& ns,
                      const json& obj) {
    auto info = registry_.Find(group, "v1", resource);
    EXPECT_TRUE(info.has_value()) << resource;
    return handler_->CreateObject(*info, ns, obj);
  }
  // The Available condition once it has `reason` (the probe runs on the
  // controller's own thread).
  json WaitForReason(const std::string& name, const std::string& reason) {
    json last;
    for (int i = 0; i < 500; ++i) {
      manager_->RunUntilIdle();
      auto s = store_->Get("apiregistration.k8s.io/apiservices", "", name);
      for (const json& c :
           s ? s->value("/status/conditions"_json_pointer, json::array()) : json::array()) {
        if (c.value("type", "") != "Available") continue;
        last = c;
        if (c.value("reason", "") == reason) return c;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no Available condition with reason " << reason << "; last: " << last.dump();
    return last;
  }

  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<ControllerManager> manager_;
};

TEST_F(ApiServiceControllerTest, ConditionFollowsServiceAndEndpoints) {
  ASSERT_OK(Create("apiregistration.k8s.io", "apiservices", "",
                   json::parse(R"({"metadata":{"name":"v1.local.example.com"},
      "spec":{"group":"local.example.com","version":"v1"}})")));
  json c = WaitForReason("v1.local.example.com", "Local");
  EXPECT_EQ(c["status"], "True");
  EXPECT_EQ(c["message"], "Local APIServices are always available");

  ASSERT_OK(Create("apiregistration.k8s.io", "apiservices", "",
                   json::parse(R"({"metadata":{"name":"v1.g.example.com"},
      "spec":{"group":"g.example.com","version":"v1","insecureSkipTLSVerify":true,
              "service":{"namespace":"ns","name":"svc","port":443}}})")));
  c = WaitForReason("v1.g.example.com", "ServiceNotFound");
  EXPECT_EQ(c["status"], "False");
  EXPECT_EQ(c["message"], "service/svc in \"ns\" is not present");
  const std::string since = c["lastTransitionTime"];

  // The Service comes (no selector: its Endpoints are ours to write).
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_OK(Create("", "services", "ns", json::parse(R"({"metadata":{"name":"svc"},
      "spec":{"ports":[{"name":"https","port":443}]}})")));
  c = WaitForReason("v1.g.example.com", "EndpointsNotFound");
  ASSERT_OK(Create("", "endpoints", "ns", json::parse(R"({"metadata":{"name":"svc"},
      "subsets":[{"notReadyAddresses":[{"ip":"127.0.0.1"}],
                  "ports":[{"name":"https","port":1}]}]})")));
  c = WaitForReason("v1.g.example.com", "MissingEndpoints");
  EXPECT_EQ(c["status"], "False");
  // Still False: the transition time is the first one's.
  EXPECT_EQ(c["lastTransitionTime"], since);

  // The Service goes again.
  auto svc = registry_.Find("", "v1", "services");
  ASSERT_OK(handler_->DeleteWithOptions(*svc, "ns", "svc", DeleteOptions{}));
  c = WaitForReason("v1.g.example.com", "ServiceNotFound");
}

}  // namespace
}  // namespace stash::api
