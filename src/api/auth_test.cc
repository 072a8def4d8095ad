// Authentication and RBAC through the whole request path (Auth + ApiHandler
// on a real Store), without the network: tokens, 401/403 and their messages,
// reviews, impersonation, aggregation and the default ServiceAccounts.
#include "auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "decode.h"
#include "errors.h"
#include "handler.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("stash-auth-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = Store::Open((dir_ / "state.db").string());
    ASSERT_OK(store);
    store_ = std::move(*store);
    auto signer = TokenSigner::LoadOrCreate((dir_ / "sa.key").string());
    ASSERT_OK(signer);
    auth_ = std::make_unique<Auth>(*store_, clock_, random_, std::move(*signer), kAdmin);
    handler_ = std::make_unique<ApiHandler>(*store_, registry_, clock_, random_, *auth_);
    auth_->Start([this](const HttpRequest& r) { return handler_->Handle(r); });
    ASSERT_EQ(Admin("POST", "/api/v1/namespaces", {{"metadata", {{"name", "demo"}}}}).status, 201);
    ASSERT_EQ(Admin("POST", "/api/v1/namespaces", {{"metadata", {{"name", "other"}}}}).status, 201);
    auth_->WaitIdle();
  }
  void TearDown() override {
    auth_->Stop();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse As(const std::string& token, const std::string& method, const std::string& path,
                  const json& body = nullptr,
                  std::vector<std::pair<std::string, std::string>> impersonation = {}) {
    HttpRequest req;
    req.method = method;
    size_t q = path.find('?');
    req.path = path.substr(0, q);
    if (q != std::string::npos) {
      std::string query = path.substr(q + 1);
      size_t eq = query.find('=');
      req.query[query.substr(0, eq)] = query.substr(eq + 1);
    }
    if (!token.empty()) req.authorization = "Bearer " + token;
    req.content_type = method == "PATCH" ? "application/merge-patch+json" : "application/json";
    if (!body.is_null()) req.body = body.dump();
    req.impersonation = std::move(impersonation);
    return handler_->Handle(req);
  }
  HttpResponse Admin(const std::string& method, const std::string& path,
                     const json& body = nullptr) {
    return As(kAdmin, method, path, body);
  }
  std::string Token(const std::string& ns, const std::string& sa, json spec = json::object()) {
    HttpResponse r = Admin(
        "POST", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + sa + "/token",
        {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["status"].value("token", "");
  }
  static std::string Message(const HttpResponse& r) {
    return json::parse(r.body).value("message", "");
  }
  void Grant(const std::string& ns, const std::string& name, const json& rules,
             const std::string& sa) {
    ASSERT_EQ(Admin("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/roles",
                    {{"metadata", {{"name", name}}}, {"rules", rules}})
                  .status,
              201);
    ASSERT_EQ(
        Admin("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/rolebindings",
              {{"metadata", {{"name", name}}},
               {"roleRef",
                {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
               {"subjects", {{{"kind", "ServiceAccount"}, {"name", sa}}}}})
            .status,
        201);
  }

  static constexpr const char* kAdmin = "admin-token-0123456789abcdef0123456789";
  std::filesystem::path dir_;
  ManualClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  SeededRandom random_{7};
  std::unique_ptr<Store> store_;
  Registry registry_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(AuthTest, EveryNamespaceGetsADefaultServiceAccount) {
  for (const char* ns : {"demo", "other"}) {
    EXPECT_EQ(
        Admin("GET", std::string("/api/v1/namespaces/") + ns + "/serviceaccounts/default").status,
        200);
  }
  // Deleted, it comes back (as kube-controller-manager's controller does).
  ASSERT_EQ(Admin("DELETE", "/api/v1/namespaces/demo/serviceaccounts/default").status, 200);
  auth_->WaitIdle();
  EXPECT_EQ(Admin("GET", "/api/v1/namespaces/demo/serviceaccounts/default").status, 200);
}

TEST_F(AuthTest, ServiceAccountIsForbiddenWithKubesMessage) {
  std::string token = Token("demo", "default");
  HttpResponse r = As(token, "GET", "/api/v1/namespaces/demo/secrets/gcs-secret");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Message(r),
            "secrets \"gcs-secret\" is forbidden: User \"system:serviceaccount:demo:default\" "
            "cannot get resource \"secrets\" in API group \"\" in the namespace \"demo\"");
  r = As(token, "GET", "/apis/stash.appscode.com/v1beta1/backupconfigurations");
  EXPECT_EQ(Message(r),
            "backupconfigurations.stash.appscode.com is forbidden: User "
            "\"system:serviceaccount:demo:default\" cannot list resource \"backupconfigurations\" "
            "in API group \"stash.appscode.com\" at the cluster scope");
  r = As(token, "PUT", "/apis/stash.appscode.com/v1beta1/namespaces/demo/backupsessions/x/status",
         json::object());
  EXPECT_EQ(Message(r),
            "backupsessions.stash.appscode.com \"x\" is forbidden: User "
            "\"system:serviceaccount:demo:default\" cannot update resource "
            "\"backupsessions/status\" in API group \"stash.appscode.com\" in the namespace "
            "\"demo\"");
  r = As(token, "GET", "/metrics");
  EXPECT_EQ(Message(r),
            "forbidden: User \"system:serviceaccount:demo:default\" cannot get path \"/metrics\"");
  // Discovery and self reviews are every authenticated user's.
  EXPECT_EQ(As(token, "GET", "/apis").status, 200);
}

TEST_F(AuthTest, RoleGrantsOnlyNamedObjectsVerbsAndNamespace) {
  ASSERT_EQ(
      Admin("POST", "/api/v1/namespaces/demo/secrets", {{"metadata", {{"name", "mine"}}}}).status,
      201);
  ASSERT_EQ(
      Admin("POST", "/api/v1/namespaces/demo/secrets", {{"metadata", {{"name", "theirs"}}}}).status,
      201);
  Grant("demo", "read-mine",
        {{{"apiGroups", {""}},
          {"resources", {"secrets"}},
          {"resourceNames", {"mine"}},
          {"verbs", {"get", "watch", "list"}}}},
        "default");
  std::string token = Token("demo", "default");
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/demo/secrets/mine").status, 200);
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/demo/secrets/theirs").status, 403);
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/demo/secrets").status, 403);
  // A list pinned to the name by a field selector carries the name.
  EXPECT_EQ(
      As(token, "GET", "/api/v1/namespaces/demo/secrets?fieldSelector=metadata.name=mine").status,
      200);
  EXPECT_EQ(As(token, "DELETE", "/api/v1/namespaces/demo/secrets/mine").status, 403);
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/other/secrets/mine").status, 403);
}

TEST_F(AuthTest, SubresourceRulesAndWildcards) {
  Grant("demo", "status-only",
        {{{"apiGroups", {"stash.appscode.com"}},
          {"resources", {"backupsessions/status"}},
          {"verbs", {"update", "patch"}}},
         {{"apiGroups", {"*"}}, {"resources", {"*/scale"}}, {"verbs", {"get"}}}},
        "default");
  std::string token = Token("demo", "default");
  auto allowed = [&](const std::string& verb, const std::string& group, const std::string& res,
                     const std::string& sub) {
    HttpResponse r = As(token, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                        {{"spec",
                          {{"resourceAttributes",
                            {{"namespace", "demo"},
                             {"verb", verb},
                             {"group", group},
                             {"resource", res},
                             {"subresource", sub}}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["status"].value("allowed", false);
  };
  EXPECT_TRUE(allowed("patch", "stash.appscode.com", "backupsessions", "status"));
  EXPECT_FALSE(allowed("patch", "stash.appscode.com", "backupsessions", ""));
  EXPECT_TRUE(allowed("get", "apps", "deployments", "scale"));
  EXPECT_FALSE(allowed("update", "apps", "deployments", "scale"));
}

TEST_F(AuthTest, TokensExpireAndDieWithTheirAccountOrBoundObject) {
  std::string token = Token("demo", "default", {{"expirationSeconds", 600}});
  EXPECT_EQ(As(token, "GET", "/api").status, 200);
  clock_.Advance(std::chrono::seconds(600 + 59));  // kube's leeway: one minute
  EXPECT_EQ(As(token, "GET", "/api").status, 200);
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(As(token, "GET", "/api").status, 401);

  ASSERT_EQ(
      Admin("POST", "/api/v1/namespaces/demo/serviceaccounts", {{"metadata", {{"name", "sa"}}}})
          .status,
      201);
  token = Token("demo", "sa");
  EXPECT_EQ(As(token, "GET", "/api").status, 200);
  ASSERT_EQ(Admin("DELETE", "/api/v1/namespaces/demo/serviceaccounts/sa").status, 200);
  EXPECT_EQ(As(token, "GET", "/api").status, 401);
  ASSERT_EQ(
      Admin("POST", "/api/v1/namespaces/demo/serviceaccounts", {{"metadata", {{"name", "sa"}}}})
          .status,
      201);
  EXPECT_EQ(As(token, "GET", "/api").status, 401);  // same name, another account

  ASSERT_EQ(Admin("POST", "/api/v1/namespaces/demo/pods",
                  {{"metadata", {{"name", "p"}}}, {"spec", {{"containers", json::array()}}}})
                .status,
            201);
  token = Token("demo", "sa",
                {{"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "p"}}}});
  HttpResponse who =
      As(token, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", json::object());
  ASSERT_EQ(who.status, 201) << who.body;
  json info = json::parse(who.body)["status"]["userInfo"];
  EXPECT_EQ(info["username"], "system:serviceaccount:demo:sa");
  EXPECT_EQ(info["groups"], json({"system:serviceaccounts", "system:serviceaccounts:demo",
                                  "system:authenticated"}));
  EXPECT_EQ(info["extra"]["authentication.kubernetes.io/pod-name"], json({"p"}));
  ASSERT_EQ(Admin("DELETE", "/api/v1/namespaces/demo/pods/p").status, 200);
  EXPECT_EQ(As(token, "GET", "/api").status, 401);
}

TEST_F(AuthTest, TokenRequestValidation) {
  HttpResponse r = Admin("POST", "/api/v1/namespaces/demo/serviceaccounts/default/token",
                         {{"spec", {{"expirationSeconds", 60}}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Message(r),
            "TokenRequest.authentication.k8s.io \"default\" is invalid: spec.expirationSeconds: "
            "Invalid value: 60: may not specify a duration less than 10 minutes");
  r = Admin("POST", "/api/v1/namespaces/demo/serviceaccounts/nobody/token", json::object());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Message(r), "serviceaccounts \"nobody\" not found");
  // A token for another audience is not one for this server.
  std::string token = Token("demo", "default", {{"audiences", {"vault"}}});
  EXPECT_EQ(As(token, "GET", "/api").status, 401);
  EXPECT_EQ(As("garbage.garbage.garbage", "GET", "/api").status, 401);
  EXPECT_EQ(As("", "GET", "/api").status, 401);
  EXPECT_EQ(As("", "GET", "/healthz").status, 200);  // anonymous, as kube's public-info-viewer
}

TEST_F(AuthTest, ImpersonationNeedsTheVerbAndChangesTheSubject) {
  auto can = [&](const std::string& token, const std::string& as) {
    HttpResponse r =
        As(token, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
           {{"spec",
             {{"resourceAttributes",
               {{"namespace", "demo"}, {"verb", "delete"}, {"resource", "secrets"}}}}}},
           as.empty() ? std::vector<std::pair<std::string, std::string>>{}
                      : std::vector<std::pair<std::string, std::string>>{{"Impersonate-User", as}});
    return r;
  };
  EXPECT_TRUE(json::parse(can(kAdmin, "").body)["status"]["allowed"].get<bool>());
  HttpResponse r = can(kAdmin, "system:serviceaccount:demo:default");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(json::parse(r.body)["status"]["allowed"].get<bool>());
  std::string token = Token("demo", "default");
  r = can(token, "system:serviceaccount:demo:other");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Message(r),
            "serviceaccounts \"other\" is forbidden: User \"system:serviceaccount:demo:default\" "
            "cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace "
            "\"demo\"");
}

TEST_F(AuthTest, MissingRoleIsNamedInTheDenial) {
  ASSERT_EQ(
      Admin("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings",
            {{"metadata", {{"name", "dangling"}}},
             {"roleRef",
              {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "gone"}}},
             {"subjects", {{{"kind", "ServiceAccount"}, {"name", "default"}}}}})
          .status,
      201);
  HttpResponse r = As(Token("demo", "default"), "GET", "/api/v1/namespaces/demo/pods");
  EXPECT_EQ(Message(r),
            "pods is forbidden: User \"system:serviceaccount:demo:default\" cannot list resource "
            "\"pods\" in API group \"\" in the namespace \"demo\": RBAC: "
            "role.rbac.authorization.k8s.io \"gone\" not found");
}

TEST_F(AuthTest, AggregatedClusterRolesCollectLabelledRules) {
  ASSERT_EQ(
      Admin("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            {{"metadata",
              {{"name", "stash-view"},
               {"labels", {{"rbac.authorization.k8s.io/aggregate-to-view", "true"}}}}},
             {"rules",
              {{{"apiGroups", {""}}, {"resources", {"configmaps/status"}}, {"verbs", {"get"}}}}}})
          .status,
      201);
  auth_->WaitIdle();
  ASSERT_EQ(
      Admin(
          "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings",
          {{"metadata", {{"name", "viewers"}}},
           {"roleRef",
            {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "view"}}},
           {"subjects", {{{"kind", "ServiceAccount"}, {"name", "default"}}}}})
          .status,
      201);
  std::string token = Token("demo", "default");
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/demo/pods").status, 200);     // kube's view
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/demo/secrets").status, 403);  // not in view
  EXPECT_EQ(As(token, "GET", "/api/v1/namespaces/other/pods").status, 403);    // bound in demo
  json view =
      json::parse(Admin("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view").body);
  EXPECT_NE(view["rules"].dump().find("configmaps/status"), std::string::npos);
}

TEST_F(AuthTest, RolesGrantOnlyWhatTheWriterHolds) {
  Grant("demo", "role-admin",
        {{{"apiGroups", {"rbac.authorization.k8s.io"}},
          {"resources", {"roles", "rolebindings"}},
          {"verbs", {"create"}}},
         {{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list"}}}},
        "default");
  std::string token = Token("demo", "default");
  auto role = [](const std::string& name, const std::string& resource) {
    return json{{"metadata", {{"name", name}}},
                {"rules", {{{"apiGroups", {""}}, {"resources", {resource}}, {"verbs", {"get"}}}}}};
  };
  const std::string roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles";
  EXPECT_EQ(As(token, "POST", roles, role("pods", "pods")).status, 201);
  HttpResponse r = As(token, "POST", roles, role("secrets", "secrets"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Message(r),
            "roles.rbac.authorization.k8s.io \"secrets\" is forbidden: user "
            "\"system:serviceaccount:demo:default\" (groups=[\"system:serviceaccounts\" "
            "\"system:serviceaccounts:demo\" \"system:authenticated\"]) is attempting to grant "
            "RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], "
            "Verbs:[\"get\"]}");
  auto binding = [](const std::string& kind, const std::string& name) {
    return json{
        {"metadata", {{"name", "b-" + name}}},
        {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", kind}, {"name", name}}},
        {"subjects", {{{"kind", "ServiceAccount"}, {"name", "default"}}}}};
  };
  const std::string bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings";
  EXPECT_EQ(As(token, "POST", bindings, binding("Role", "pods")).status, 201);
  EXPECT_EQ(As(token, "POST", bindings, binding("ClusterRole", "cluster-admin")).status, 403);
  // `bind` on the role lets one bind what one does not hold.
  Grant("demo", "binder",
        {{{"apiGroups", {"rbac.authorization.k8s.io"}},
          {"resources", {"clusterroles"}},
          {"resourceNames", {"cluster-admin"}},
          {"verbs", {"bind"}}}},
        "default");
  EXPECT_EQ(As(token, "POST", bindings, binding("ClusterRole", "cluster-admin")).status, 201);
}

TEST(RequestAttributesTest, ReadsVerbResourceAndNameAsKube) {
  auto attrs = [](const std::string& method, const std::string& path,
                  std::map<std::string, std::string> query = {}) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    return RequestAttributes(r);
  };
  Attributes a = attrs("GET", "/api/v1/namespaces/demo/pods", {{"watch", "true"}});
  EXPECT_EQ(a.verb, "watch");
  EXPECT_EQ(a.resource, "pods");
  EXPECT_EQ(a.ns, "demo");
  a = attrs("DELETE", "/apis/apps/v1/namespaces/demo/deployments");
  EXPECT_EQ(a.verb, "deletecollection");
  EXPECT_EQ(a.api_group, "apps");
  a = attrs("GET", "/api/v1/namespaces/demo");
  EXPECT_EQ(a.resource, "namespaces");
  EXPECT_EQ(a.name, "demo");
  EXPECT_EQ(a.ns, "demo");
  a = attrs("PUT", "/api/v1/namespaces/demo/finalize");
  EXPECT_EQ(a.subresource, "finalize");
  a = attrs("POST", "/api/v1/namespaces/demo/serviceaccounts/default/token");
  EXPECT_EQ(a.verb, "create");
  EXPECT_EQ(a.subresource, "token");
  a = attrs("GET", "/apis");
  EXPECT_FALSE(a.resource_request);
  EXPECT_EQ(a.verb, "get");
  a = attrs("GET", "/apis/stash.appscode.com/v1beta1");
  EXPECT_FALSE(a.resource_request);
}

TEST_F(AuthTest, ReviewAndRoleBodiesAreDecodedWithinTheLimits) {
  // Reviews and RBAC's escalation check decode bodies before the handler:
  // they keep to the same limits (413 for too many values, 400 for nesting).
  Grant("demo", "role-writer",
        {{{"apiGroups", {"rbac.authorization.k8s.io"}},
          {"resources", {"roles"}},
          {"verbs", {"create"}}}},
        "default");
  const std::string token = Token("demo", "default");
  std::string many = R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",)"
                     R"("spec":{"resourceAttributes":{"verb":"get"}},"x":[)";
  for (size_t i = 0; i < kMaxValues; ++i) many += "0,";
  many += "0]}";
  const std::string deep = R"({"kind":"Role","metadata":{"name":"r"},"rules":)" +
                           std::string(5000, '[') + std::string(5000, ']') + "}";
  struct Case {
    std::string who, path, body;
    int status;
  } cases[] = {
      {token, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", many, 413},
      {kAdmin, "/apis/authentication.k8s.io/v1/tokenreviews", deep, 400},
      {token, "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles", many, 413},
      {token, "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles", deep, 400},
  };
  for (const Case& c : cases) {
    HttpRequest req;
    req.method = "POST";
    req.path = c.path;
    req.authorization = "Bearer " + c.who;
    req.content_type = "application/json";
    req.body = c.body;
    HttpResponse r = handler_->Handle(req);
    EXPECT_EQ(r.status, c.status) << c.path << ": " << r.body.substr(0, 300);
  }
}

}  // namespace
}  // namespace stash::api
