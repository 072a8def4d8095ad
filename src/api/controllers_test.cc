// The in-process controllers on a real store: garbage collection with each
// propagation policy, namespace deletion, and volume provisioning/reclaim.
#include "controllers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "object_meta.h"
#include "server_fixture.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

namespace fs = std::filesystem;

class ControllersTest : public testing::ApiHandlerTest {
 protected:
  ControllersTest() : ApiHandlerTest(SystemTime(std::chrono::seconds(1700000000))) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ApiHandlerTest::SetUp());
    ControllerOptions options;
    options.volume_root = (dir_ / "volumes").string();
    manager_ = std::make_unique<ControllerManager>(*store_, registry_, *handler_, clock_, options);
    ASSERT_OK(manager_->Start(/*run_thread=*/false));
    ASSERT_OK(Create("", "v1", "namespaces", "", {{"metadata", {{"name", "demo"}}}}));
    manager_->RunUntilIdle();
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
    manager_.reset();
    ApiHandlerTest::TearDown();
  }

  ResourceInfo Info(const std::string& group, const std::string& version,
                    const std::string& resource) {
    auto info = registry_.Find(group, version, resource);
    EXPECT_TRUE(info.has_value()) << resource;
    return *info;
  }
  Result<json> Create(const std::string& group, const std::string& version,
                      const std::string& resource, const std::string& ns, json obj) {
    return handler_->CreateObject(Info(group, version, resource), ns, obj);
  }
  // Vectors, not json parameters: `{Ref(x)}` as a json is an array with gcc
  // but the object itself with clang (nlohmann's single-element brace rule).
  Result<json> ConfigMap(const std::string& name, const std::vector<json>& owners = {},
                         const std::vector<std::string>& finalizers = {}) {
    json meta = {{"name", name}};
    if (!owners.empty()) meta["ownerReferences"] = json(owners);
    if (!finalizers.empty()) meta["finalizers"] = json(finalizers);
    return Create("", "v1", "configmaps", "demo", {{"metadata", meta}});
  }
  static json Ref(const json& owner, bool block = false) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"name", owner["metadata"]["name"]},
            {"uid", owner["metadata"]["uid"]},
            {"blockOwnerDeletion", block}};
  }
  bool Exists(const std::string& name) {
    return store_->Get("/configmaps", "demo", name).has_value();
  }
  Result<MutateResult> Delete(const std::string& name, Propagation p) {
    DeleteOptions o;
    o.propagation = p;
    return handler_->DeleteWithOptions(Info("", "v1", "configmaps"), "demo", name, o);
  }
  Status RemoveFinalizers(const std::string& resource, const std::string& ns,
                          const std::string& name) {
    return handler_
        ->ModifyObject(Info("", "v1", resource), ns, name, "",
                       [](json* o) {
                         (*o)["metadata"].erase("finalizers");
                         return Status::Ok();
                       })
        .status();
  }

  std::unique_ptr<ControllerManager> manager_;
};

TEST_F(ControllersTest, BackgroundDeletionTakesDependentsAlong) {
  auto owner = ConfigMap("owner");
  ASSERT_OK(owner);
  ASSERT_OK(ConfigMap("child-1", {Ref(*owner)}));
  ASSERT_OK(ConfigMap("child-2", {Ref(*owner)}));
  ASSERT_OK(ConfigMap("unrelated"));
  manager_->RunUntilIdle();
  ASSERT_OK(Delete("owner", Propagation::kBackground));
  EXPECT_TRUE(Exists("child-1"));  // the collector, not the delete, removes them
  manager_->RunUntilIdle();
  EXPECT_FALSE(Exists("owner"));
  EXPECT_FALSE(Exists("child-1"));
  EXPECT_FALSE(Exists("child-2"));
  EXPECT_TRUE(Exists("unrelated"));
}

TEST_F(ControllersTest, DanglingOwnerAtCreateIsCollectedAndLiveOwnerKeeps) {
  auto owner = ConfigMap("alive");
  ASSERT_OK(owner);
  json gone = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"name", "gone"},
               {"uid", "00000000-0000-4000-8000-000000000000"}};
  ASSERT_OK(ConfigMap("orphaned", {gone}));
  ASSERT_OK(ConfigMap("two-owners", {gone, Ref(*owner)}));
  manager_->RunUntilIdle();
  EXPECT_FALSE(Exists("orphaned"));
  auto kept = store_->Get("/configmaps", "demo", "two-owners");
  ASSERT_TRUE(kept.has_value());
  ASSERT_EQ(OwnerRefs(*kept).size(), 1u);  // the dangling reference is dropped
  EXPECT_EQ(OwnerRefs(*kept)[0].name, "alive");
}

TEST_F(ControllersTest, ForegroundWaitsForBlockingDependents) {
  auto owner = ConfigMap("owner");
  ASSERT_OK(owner);
  // The dependent has a finalizer of its own: the owner must wait for it.
  ASSERT_OK(ConfigMap("blocker", {Ref(*owner, /*block=*/true)}, {"example.com/hold"}));
  ASSERT_OK(ConfigMap("free", {Ref(*owner, /*block=*/false)}));
  manager_->RunUntilIdle();
  auto r = Delete("owner", Propagation::kForeground);
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, Mutation::kPut);
  EXPECT_TRUE(HasFinalizer(r->object, kForegroundFinalizer));
  manager_->RunUntilIdle();
  EXPECT_FALSE(Exists("free"));
  EXPECT_TRUE(Exists("owner"));
  auto blocker = store_->Get("/configmaps", "demo", "blocker");
  ASSERT_TRUE(blocker.has_value());
  EXPECT_TRUE(IsTerminating(*blocker));
  ASSERT_OK(RemoveFinalizers("configmaps", "demo", "blocker"));
  manager_->RunUntilIdle();
  EXPECT_FALSE(Exists("blocker"));
  EXPECT_FALSE(Exists("owner"));
}

TEST_F(ControllersTest, OrphanKeepsDependentsWithoutTheReference) {
  auto owner = ConfigMap("owner");
  ASSERT_OK(owner);
  ASSERT_OK(ConfigMap("child", {Ref(*owner)}));
  manager_->RunUntilIdle();
  ASSERT_OK(Delete("owner", Propagation::kOrphan));
  manager_->RunUntilIdle();
  EXPECT_FALSE(Exists("owner"));
  auto child = store_->Get("/configmaps", "demo", "child");
  ASSERT_TRUE(child.has_value());
  EXPECT_TRUE(OwnerRefs(*child).empty());
}

TEST_F(ControllersTest, NamespaceTerminatesThenGoesWhenFinalizersAreRemoved) {
  ASSERT_OK(ConfigMap("plain"));
  ASSERT_OK(ConfigMap("held", {}, {"example.com/hold"}));
  DeleteOptions o;
  auto r = handler_->DeleteWithOptions(Info("", "v1", "namespaces"), "", "demo", o);
  ASSERT_OK(r);
  EXPECT_EQ(r->object["status"]["phase"], "Terminating");
  manager_->RunUntilIdle();
  auto ns = store_->Get("/namespaces", "", "demo");
  ASSERT_TRUE(ns.has_value());
  EXPECT_FALSE(Exists("plain"));
  std::map<std::string, json> conditions;
  for (const json& c : (*ns)["status"]["conditions"]) conditions[c["type"]] = c;
  EXPECT_EQ(conditions["NamespaceContentRemaining"]["message"],
            "Some resources are remaining: configmaps. has 1 resource instances");
  EXPECT_EQ(conditions["NamespaceFinalizersRemaining"]["message"],
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 "
            "resource instances");
  ASSERT_OK(RemoveFinalizers("configmaps", "demo", "held"));
  manager_->RunUntilIdle();
  EXPECT_FALSE(store_->Get("/namespaces", "", "demo").has_value());
}

class VolumesTest : public ControllersTest {
 protected:
  Result<json> Claim(const std::string& name) {
    return Create("", "v1", "persistentvolumeclaims", "demo",
                  {{"metadata", {{"name", name}}},
                   {"spec",
                    {{"accessModes", {"ReadWriteOnce"}},
                     {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}});
  }
  std::optional<json> GetClaim(const std::string& name) {
    return store_->Get("/persistentvolumeclaims", "demo", name);
  }
  Status DeleteClaim(const std::string& name) {
    return handler_->DeleteWithOptions(Info("", "v1", "persistentvolumeclaims"), "demo", name, {})
        .status();
  }
  fs::path Dir(const std::string& claim) { return dir_ / "volumes" / "demo" / claim; }
  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
};

TEST_F(VolumesTest, ClaimIsBoundToAProvisionedVolumeAndDeleteReclaimsIt) {
  auto sc = store_->Get("storage.k8s.io/storageclasses", "", "standard");
  ASSERT_TRUE(sc.has_value());
  EXPECT_EQ((*sc)["reclaimPolicy"], "Delete");
  auto claim = Claim("data");
  ASSERT_OK(claim);
  EXPECT_EQ((*claim)["spec"]["storageClassName"], "standard");  // DefaultStorageClass admission
  manager_->RunUntilIdle();
  auto bound = GetClaim("data");
  ASSERT_TRUE(bound.has_value());
  const std::string pv_name = "pvc-" + MetaField(*claim, "uid");
  EXPECT_EQ((*bound)["spec"]["volumeName"], pv_name);
  EXPECT_EQ((*bound)["status"]["phase"], "Bound");
  EXPECT_EQ((*bound)["status"]["capacity"]["storage"], "1Gi");
  auto pv = store_->Get("/persistentvolumes", "", pv_name);
  ASSERT_TRUE(pv.has_value());
  EXPECT_EQ((*pv)["status"]["phase"], "Bound");
  EXPECT_EQ((*pv)["spec"]["claimRef"]["name"], "data");
  EXPECT_EQ((*pv)["spec"]["hostPath"]["path"], Dir("data").string());
  ASSERT_TRUE(fs::is_directory(Dir("data")));
  Write(Dir("data") / "old.txt", "old data");

  ASSERT_OK(DeleteClaim("data"));
  manager_->RunUntilIdle();
  EXPECT_FALSE(GetClaim("data").has_value());
  EXPECT_FALSE(store_->Get("/persistentvolumes", "", pv_name).has_value());
  EXPECT_FALSE(fs::exists(Dir("data")));
  // A new claim of the same name starts empty.
  ASSERT_OK(Claim("data"));
  manager_->RunUntilIdle();
  ASSERT_TRUE(fs::is_directory(Dir("data")));
  EXPECT_FALSE(fs::exists(Dir("data") / "old.txt"));
}

TEST_F(VolumesTest, RetainedVolumeKeepsItsDataOutOfTheNewClaimsWay) {
  auto claim = Claim("keep");
  ASSERT_OK(claim);
  manager_->RunUntilIdle();
  const std::string pv_name = "pvc-" + MetaField(*claim, "uid");
  ASSERT_OK(handler_
                ->ModifyObject(Info("", "v1", "persistentvolumes"), "", pv_name, "",
                               [](json* o) {
                                 (*o)["spec"]["persistentVolumeReclaimPolicy"] = "Retain";
                                 return Status::Ok();
                               })
                .status());
  Write(Dir("keep") / "precious.txt", "keep me");
  ASSERT_OK(DeleteClaim("keep"));
  manager_->RunUntilIdle();
  auto pv = store_->Get("/persistentvolumes", "", pv_name);
  ASSERT_TRUE(pv.has_value());
  EXPECT_EQ((*pv)["status"]["phase"], "Released");
  fs::path parked = (*pv)["spec"]["hostPath"]["path"].get<std::string>();
  EXPECT_EQ(parked, dir_ / "volumes" / ".released" / pv_name);
  EXPECT_TRUE(fs::exists(parked / "precious.txt"));
  ASSERT_OK(Claim("keep"));
  manager_->RunUntilIdle();
  EXPECT_EQ((*GetClaim("keep"))["status"]["phase"], "Bound");
  EXPECT_FALSE(fs::exists(Dir("keep") / "precious.txt"));
}

TEST_F(VolumesTest, ClaimInUseByAPodWaitsForThePod) {
  ASSERT_OK(Claim("used"));
  ASSERT_OK(Create(
      "", "v1", "pods", "demo",
      {{"metadata", {{"name", "app"}}},
       {"spec",
        {{"containers", {{{"name", "c"}, {"image", "busybox"}}}},
         {"volumes", {{{"name", "v"}, {"persistentVolumeClaim", {{"claimName", "used"}}}}}}}}}));
  manager_->RunUntilIdle();
  ASSERT_OK(DeleteClaim("used"));
  manager_->RunUntilIdle();
  auto claim = GetClaim("used");
  ASSERT_TRUE(claim.has_value());
  EXPECT_TRUE(IsTerminating(*claim));
  ASSERT_OK(handler_->DeleteWithOptions(Info("", "v1", "pods"), "demo", "app", {}).status());
  manager_->RunUntilIdle();
  EXPECT_FALSE(GetClaim("used").has_value());
}

TEST_F(VolumesTest, ClaimOfAnUnknownClassStaysPendingWithAnEvent) {
  ASSERT_OK(Create("", "v1", "persistentvolumeclaims", "demo",
                   {{"metadata", {{"name", "fast"}}},
                    {"spec",
                     {{"storageClassName", "fast-ssd"},
                      {"accessModes", {"ReadWriteOnce"}},
                      {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}));
  manager_->RunUntilIdle();
  EXPECT_EQ((*GetClaim("fast"))["status"]["phase"], "Pending");
  bool found = false;
  for (const json& e : store_->List("/events", "demo", nullptr)) {
    found |= e["reason"] == "ProvisioningFailed" &&
             e["message"] == "storageclass.storage.k8s.io \"fast-ssd\" not found";
  }
  EXPECT_TRUE(found);
}

class WorkloadsTest : public ControllersTest {
 protected:
  static json Template(const std::string& app, const std::string& image) {
    return {{"metadata", {{"labels", {{"app", app}}}}},
            {"spec", {{"containers", {{{"name", app}, {"image", image}}}}}}};
  }
  std::vector<json> Pods(const std::string& app) {
    std::vector<json> out;
    for (json& p : store_->List("/pods", "demo", nullptr)) {
      if (p["metadata"]["labels"].value("app", "") == app) out.push_back(std::move(p));
    }
    return out;
  }
  // What the embedded node reports for a pod whose image it does not run.
  void ReportNotRun(const json& pod) {
    ASSERT_OK(handler_
                  ->ModifyObject(
                      Info("", "v1", "pods"), "demo", pod["metadata"]["name"], "",
                      [](json* o) {
                        (*o)["status"] = {
                            {"phase", "Pending"},
                            {"containerStatuses",
                             {{{"name", "c"},
                               {"ready", false},
                               {"state", {{"waiting", {{"reason", "NotRunByEmbeddedNode"}}}}}}}}};
                        return Status::Ok();
                      })
                  .status());
  }
  bool HasEvent(const std::string& reason, const std::string& message_part) {
    for (const json& e : store_->List("/events", "demo", nullptr)) {
      if (e["reason"] == reason && e.value("message", "").find(message_part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
};

TEST_F(WorkloadsTest, DeploymentPodsComeThroughAReplicaSetAndWaitForANode) {
  ASSERT_OK(Create("apps", "v1", "deployments", "demo",
                   {{"metadata", {{"name", "web"}}},
                    {"spec",
                     {{"replicas", 2},
                      {"selector", {{"matchLabels", {{"app", "web"}}}}},
                      {"template", Template("web", "nginx")}}}}));
  manager_->RunUntilIdle();
  std::vector<json> rs = store_->List("apps/replicasets", "demo", nullptr);
  ASSERT_EQ(rs.size(), 1u);
  const std::string hash = rs[0]["metadata"]["labels"]["pod-template-hash"];
  EXPECT_EQ(rs[0]["metadata"]["name"], "web-" + hash);
  EXPECT_EQ(rs[0]["spec"]["replicas"], 2);
  std::vector<json> pods = Pods("web");
  ASSERT_EQ(pods.size(), 2u);
  for (const json& p : pods) {
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["name"], "web-" + hash);
    EXPECT_FALSE(p["spec"].contains("nodeName"));  // no Node yet
  }
  EXPECT_TRUE(HasEvent("FailedScheduling", "no nodes available"));
  // A Ready node: the pods are bound to it.
  ASSERT_OK(Create("", "v1", "nodes", "",
                   {{"metadata", {{"name", "n1"}}},
                    {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}}));
  ASSERT_OK(
      handler_
          ->ModifyObject(Info("", "v1", "nodes"), "", "n1", "",
                         [](json* o) {
                           (*o)["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
                           return Status::Ok();
                         })
          .status());
  manager_->RunUntilIdle();
  for (const json& p : Pods("web")) EXPECT_EQ(p["spec"].value("nodeName", ""), "n1");
  EXPECT_TRUE(HasEvent("Scheduled", "to n1"));
  // Pods the node does not run count as ready: the Deployment is available.
  for (const json& p : Pods("web")) ReportNotRun(p);
  manager_->RunUntilIdle();
  json d = *store_->Get("apps/deployments", "demo", "web");
  EXPECT_EQ(d["status"]["availableReplicas"], 2);
  EXPECT_EQ(d["status"]["updatedReplicas"], 2);
  EXPECT_EQ(d["spec"]["strategy"]["type"], "RollingUpdate");  // defaulted
}

TEST_F(WorkloadsTest, StatefulSetPodsGetOrdinalsAndOwnClaims) {
  ASSERT_OK(Create("apps", "v1", "statefulsets", "demo",
                   {{"metadata", {{"name", "db"}}},
                    {"spec",
                     {{"replicas", 3},
                      {"podManagementPolicy", "Parallel"},
                      {"serviceName", "db"},
                      {"selector", {{"matchLabels", {{"app", "db"}}}}},
                      {"template", Template("db", "postgres")},
                      {"volumeClaimTemplates",
                       {{{"metadata", {{"name", "data"}}},
                         {"spec",
                          {{"accessModes", {"ReadWriteOnce"}},
                           {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}}}}}}));
  manager_->RunUntilIdle();
  std::vector<std::string> names;
  for (const json& p : Pods("db")) {
    names.push_back(p["metadata"]["name"]);
    const std::string ordinal = p["metadata"]["labels"]["apps.kubernetes.io/pod-index"];
    EXPECT_EQ(p["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"], "data-db-" + ordinal);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"db-0", "db-1", "db-2"}));
  for (int i = 0; i < 3; ++i) {
    auto claim = store_->Get("/persistentvolumeclaims", "demo", "data-db-" + std::to_string(i));
    ASSERT_TRUE(claim.has_value());
    EXPECT_EQ((*claim)["status"]["phase"], "Bound");
  }
  // Shrinking removes the highest ordinals and keeps their claims.
  ASSERT_OK(handler_
                ->ModifyObject(Info("apps", "v1", "statefulsets"), "demo", "db", "",
                               [](json* o) {
                                 (*o)["spec"]["replicas"] = 1;
                                 return Status::Ok();
                               })
                .status());
  manager_->RunUntilIdle();
  std::vector<json> left = Pods("db");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["metadata"]["name"], "db-0");
  EXPECT_TRUE(store_->Get("/persistentvolumeclaims", "demo", "data-db-2").has_value());
  EXPECT_EQ(store_->List("apps/controllerrevisions", "demo", nullptr).size(), 1u);
}

}  // namespace
}  // namespace stash::api
