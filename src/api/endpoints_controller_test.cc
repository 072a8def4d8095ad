// The endpoints controller: subsets from a Service and its pods (pure), and
// the Endpoints object kept in step on a real store.
#include "endpoints_controller.h"

#include <gtest/gtest.h>

#include "server_fixture.h"
#include "stash/api/table.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

json Service(const std::string& name, const std::string& extra = "") {
  return json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"demo",
      "labels":{"app":"op"}},"spec":{"selector":{"app":"op"},"ports":[
        {"name":"web","port":443,"targetPort":8443},
        {"name":"api","port":8444,"targetPort":"api","protocol":"TCP"}])" +
                     extra + "}}");
}

json Pod(const std::string& name, const std::string& ip, bool ready,
         const std::string& labels = R"({"app":"op"})") {
  json pod = json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"demo","uid":"uid-)" +
                         name + R"(","labels":)" + labels + R"(},
      "spec":{"nodeName":"node-1","containers":[{"name":"c","ports":[
        {"name":"api","containerPort":9444}]}]},
      "status":{"phase":"Running","conditions":[{"type":"Ready","status":")" +
                         (ready ? "True" : "False") + R"("}]}})");
  if (!ip.empty()) pod["status"]["podIP"] = ip;
  return pod;
}

TEST(EndpointSubsetsTest, ReadyAndNotReadyPodsWithPortsByNumberAndName) {
  json subsets =
      EndpointSubsets(Service("op"), {Pod("b", "10.0.0.2", true), Pod("a", "10.0.0.1", true),
                                      Pod("c", "10.0.0.3", false), Pod("no-ip", "", true),
                                      Pod("other", "10.0.0.4", true, R"({"app":"else"})")});
  ASSERT_EQ(subsets.size(), 1u) << subsets.dump();
  const json& s = subsets[0];
  ASSERT_EQ(s["addresses"].size(), 2u);
  EXPECT_EQ(s["addresses"][0]["ip"], "10.0.0.1");
  EXPECT_EQ(s["addresses"][0]["nodeName"], "node-1");
  EXPECT_EQ(s["addresses"][0]["targetRef"],
            json::parse(R"({"kind":"Pod","namespace":"demo","name":"a","uid":"uid-a"})"));
  EXPECT_EQ(s["addresses"][1]["ip"], "10.0.0.2");
  ASSERT_EQ(s["notReadyAddresses"].size(), 1u);
  EXPECT_EQ(s["notReadyAddresses"][0]["ip"], "10.0.0.3");
  EXPECT_EQ(s["ports"], json::parse(R"([{"name":"web","port":8443,"protocol":"TCP"},
                                        {"name":"api","port":9444,"protocol":"TCP"}])"));
}

TEST(EndpointSubsetsTest, APodWithoutTheNamedPortIsItsOwnSubset) {
  json bare = Pod("bare", "10.0.0.5", true);
  bare["spec"]["containers"][0].erase("ports");
  json subsets = EndpointSubsets(Service("op"), {Pod("a", "10.0.0.1", true), bare});
  ASSERT_EQ(subsets.size(), 2u) << subsets.dump();
  for (const json& s : subsets) {
    if (s["addresses"][0]["ip"] == "10.0.0.5") {
      EXPECT_EQ(s["ports"].size(), 1u);
      EXPECT_EQ(s["ports"][0]["name"], "web");
    } else {
      EXPECT_EQ(s["ports"].size(), 2u);
    }
  }
}

TEST(EndpointSubsetsTest, FinishedTerminatingAndPublishNotReady) {
  json done = Pod("done", "10.0.0.6", false);
  done["spec"]["restartPolicy"] = "Never";
  done["status"]["phase"] = "Succeeded";
  json going = Pod("going", "10.0.0.7", true);
  going["metadata"]["deletionTimestamp"] = "2026-12-07T10:00:00Z";
  EXPECT_TRUE(EndpointSubsets(Service("op"), {done, going}).empty());
  // publishNotReadyAddresses: every pod with an IP is an address.
  json subsets = EndpointSubsets(Service("op", R"(,"publishNotReadyAddresses":true)"),
                                 {Pod("c", "10.0.0.3", false), going});
  ASSERT_EQ(subsets.size(), 1u);
  EXPECT_EQ(subsets[0]["addresses"].size(), 2u);
  EXPECT_FALSE(subsets[0].contains("notReadyAddresses"));
}

TEST(EndpointSubsetsTest, HeadlessWithoutPortsAndSubdomainHostnames) {
  json svc = json::parse(R"({"metadata":{"name":"db","namespace":"demo"},
      "spec":{"clusterIP":"None","selector":{"app":"op"}}})");
  json pod = Pod("db-0", "10.0.0.8", true);
  pod["spec"]["hostname"] = "db-0";
  pod["spec"]["subdomain"] = "db";
  json subsets = EndpointSubsets(svc, {pod});
  ASSERT_EQ(subsets.size(), 1u);
  EXPECT_FALSE(subsets[0].contains("ports"));
  EXPECT_EQ(subsets[0]["addresses"][0]["hostname"], "db-0");
}

class EndpointsControllerTest : public testing::ApiHandlerTest {
 protected:
  EndpointsControllerTest() : ApiHandlerTest(*ParseTimestamp("2026-12-07T10:00:00Z")) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ApiHandlerTest::SetUp());
    manager_ = std::make_unique<ControllerManager>(*store_, registry_, *handler_, clock_,
                                                   ControllerOptions{});
    ASSERT_OK(manager_->Start(/*run_thread=*/false));
    ASSERT_OK(Create("namespaces", "", json::parse(R"({"metadata":{"name":"demo"}})")));
    manager_->RunUntilIdle();
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
    manager_.reset();
    ApiHandlerTest::TearDown();
  }
  Result<json> Create(const std::string& resource, const std::string& ns, const json& obj) {
    auto info = registry_.Find("", "v1", resource);
    EXPECT_TRUE(info.has_value()) << resource;
    return handler_->CreateObject(*info, ns, obj);
  }
  Status Edit(const std::string& resource, const std::string& name,
              const std::function<void(json*)>& edit) {
    auto info = registry_.Find("", "v1", resource);
    return handler_
        ->ModifyObject(*info, "demo", name, "",
                       [&](json* o) {
                         edit(o);
                         return Status::Ok();
                       })
        .status();
  }
  std::optional<json> Endpoints(const std::string& name) {
    manager_->RunUntilIdle();
    return store_->Get("/endpoints", "demo", name);
  }

  std::unique_ptr<ControllerManager> manager_;
};

TEST_F(EndpointsControllerTest, FollowsPodsReadinessAndTheServicesLife) {
  ASSERT_OK(Create("services", "demo", Service("op")));
  auto ep = Endpoints("op");
  ASSERT_TRUE(ep.has_value());
  EXPECT_FALSE(ep->contains("subsets"));
  EXPECT_EQ((*ep)["metadata"]["labels"]["app"], "op");

  // Created without a status (the server drops it, as kube-apiserver).
  ASSERT_OK(Create("pods", "demo", Pod("op-1", "", false)));
  EXPECT_FALSE(Endpoints("op")->contains("subsets"));
  // The node reports the pod's IP, then Ready.
  ASSERT_OK(Edit("pods", "op-1",
                 [](json* p) { (*p)["status"] = Pod("op-1", "10.1.0.1", false)["status"]; }));
  ep = Endpoints("op");
  ASSERT_TRUE(ep->contains("subsets")) << ep->dump();
  EXPECT_EQ((*ep)["subsets"][0]["notReadyAddresses"][0]["ip"], "10.1.0.1");
  ASSERT_OK(
      Edit("pods", "op-1", [](json* p) { (*p)["status"]["conditions"][0]["status"] = "True"; }));
  ep = Endpoints("op");
  ASSERT_TRUE((*ep)["subsets"][0].contains("addresses")) << ep->dump();
  EXPECT_EQ((*ep)["subsets"][0]["addresses"][0]["ip"], "10.1.0.1");
  EXPECT_EQ((*ep)["subsets"][0]["ports"][1]["port"], 9444);
  const std::string rv = (*ep)["metadata"]["resourceVersion"];

  // Nothing the endpoints show changed: no write.
  ASSERT_OK(Edit("pods", "op-1", [](json* p) { (*p)["status"]["message"] = "hello"; }));
  EXPECT_EQ((*Endpoints("op"))["metadata"]["resourceVersion"], rv);

  // Someone overwrites them: put back.
  ASSERT_OK(Edit("endpoints", "op", [](json* e) { e->erase("subsets"); }));
  EXPECT_TRUE(Endpoints("op")->contains("subsets"));

  // Relabelled out of the selector.
  ASSERT_OK(Edit("pods", "op-1", [](json* p) { (*p)["metadata"]["labels"]["app"] = "x"; }));
  EXPECT_FALSE(Endpoints("op")->contains("subsets"));

  auto svc_info = registry_.Find("", "v1", "services");
  ASSERT_OK(handler_->DeleteWithOptions(*svc_info, "demo", "op", DeleteOptions{}));
  EXPECT_FALSE(Endpoints("op").has_value());
}

TEST_F(EndpointsControllerTest, SelectorlessServicesKeepTheUsersEndpoints) {
  ASSERT_OK(Create("endpoints", "demo", json::parse(R"({"metadata":{"name":"ext"},
      "subsets":[{"addresses":[{"ip":"192.0.2.1"}],"ports":[{"port":80}]}]})")));
  ASSERT_OK(Create("services", "demo",
                   json::parse(R"({"metadata":{"name":"ext"},"spec":{"ports":[{"port":80}]}})")));
  ASSERT_OK(Create("pods", "demo", Pod("op-1", "10.1.0.1", true)));
  auto ep = Endpoints("ext");
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ((*ep)["subsets"][0]["addresses"][0]["ip"], "192.0.2.1");
}

}  // namespace
}  // namespace stash::api
