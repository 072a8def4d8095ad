// Who the operator's aggregated API lets in, and what it asks the API server.
#include "aggregated_auth.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

// The API server's side of the delegation: the tokens it knows, the
// (user, verb) pairs it allows, and what it was asked.
class ScriptedApiServer final : public Delegate {
 public:
  std::map<std::string, RemoteUser> tokens;
  std::set<std::pair<std::string, std::string>> allowed;  // (user, verb)
  bool reviews_fail = false;
  int token_reviews = 0;
  std::vector<std::pair<RemoteUser, AccessRequest>> access_reviews;

  Result<RemoteUser> ReviewToken(const std::string& token) override {
    ++token_reviews;
    if (reviews_fail) return UnavailableError("connection refused");
    auto it = tokens.find(token);
    if (it == tokens.end()) return UnauthorizedError("token not valid");
    return it->second;
  }
  Result<AccessDecision> ReviewAccess(const RemoteUser& user, const AccessRequest& r) override {
    access_reviews.emplace_back(user, r);
    if (reviews_fail) return UnavailableError("connection refused");
    AccessDecision d;
    d.allowed = allowed.count({user.name, r.verb}) > 0;
    if (!d.allowed) d.reason = "";
    return d;
  }
};

RequestHeaderAuth FrontProxy() {
  RequestHeaderAuth c;
  c.client_ca_pem = "(verified by the HTTPS server)";
  c.allowed_names = {"front-proxy-client"};
  return c;
}

HttpRequest Request(const std::string& method, const std::string& target) {
  HttpRequest r;
  r.method = method;
  ParseRequestTarget(target, &r);
  return r;
}

// A request forwarded by the front proxy for `user` in `groups`.
HttpRequest Forwarded(const std::string& cn, const std::string& user,
                      const std::vector<std::string>& groups) {
  HttpRequest r =
      Request("GET", "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots");
  r.client_cn = cn;
  r.headers.push_back({"x-remote-user", user});
  for (const std::string& g : groups) r.headers.push_back({"x-remote-group", g});
  r.headers.push_back({"x-remote-extra-scopes%2fteam", "blue"});
  return r;
}

TEST(AggregatedAuthTest, TheFrontProxysCertificateVouchesForTheUserInItsHeaders) {
  ScriptedApiServer api;
  DelegatedAuthn who = AuthenticateDelegated(
      Forwarded("front-proxy-client", "alice", {"devs", "system:authenticated"}), FrontProxy(),
      api);
  ASSERT_FALSE(who.response);
  EXPECT_EQ(who.user.name, "alice");
  EXPECT_EQ(who.user.groups, (std::vector<std::string>{"devs", "system:authenticated"}));
  EXPECT_EQ(who.user.extra["scopes/team"], std::vector<std::string>{"blue"});
  EXPECT_EQ(api.token_reviews, 0);  // no round trip for a forwarded request
}

TEST(AggregatedAuthTest, HeadersWithoutTheProxysCertificateAreIgnored) {
  ScriptedApiServer api;
  // Anyone can send X-Remote-User: without the certificate it names nobody.
  DelegatedAuthn who =
      AuthenticateDelegated(Forwarded("", "system:admin", {"system:masters"}), FrontProxy(), api);
  ASSERT_TRUE(who.response);
  EXPECT_EQ(who.response->status, 401);
  EXPECT_NE(who.response->body.find("\"reason\":\"Unauthorized\""), std::string::npos);

  // With a valid token as well, the token's user is who asks.
  api.tokens["t0ken"] = RemoteUser{"system:serviceaccount:demo:reader", "uid-1", {"sa"}, {}};
  HttpRequest r = Forwarded("", "system:admin", {"system:masters"});
  r.authorization = "Bearer t0ken";
  who = AuthenticateDelegated(r, FrontProxy(), api);
  ASSERT_FALSE(who.response);
  EXPECT_EQ(who.user.name, "system:serviceaccount:demo:reader");
  EXPECT_EQ(who.user.groups, (std::vector<std::string>{"sa", "system:authenticated"}));
}

TEST(AggregatedAuthTest, ACertificateWithANameTheProxyDoesNotUseIsRefused) {
  ScriptedApiServer api;
  DelegatedAuthn who =
      AuthenticateDelegated(Forwarded("some-client", "alice", {}), FrontProxy(), api);
  ASSERT_TRUE(who.response);
  EXPECT_EQ(who.response->status, 401);
  // No allowed names: any certificate the CA signed.
  RequestHeaderAuth any = FrontProxy();
  any.allowed_names.clear();
  who = AuthenticateDelegated(Forwarded("some-client", "alice", {}), any, api);
  ASSERT_FALSE(who.response);
  EXPECT_EQ(who.user.name, "alice");
}

TEST(AggregatedAuthTest, BadOrUnreviewableTokensAndNoCredentialsAre401) {
  ScriptedApiServer api;
  HttpRequest r = Request("GET", "/apis");
  EXPECT_EQ(AuthenticateDelegated(r, FrontProxy(), api).response->status, 401);
  EXPECT_EQ(api.token_reviews, 0);
  r.authorization = "Bearer wrong";
  EXPECT_EQ(AuthenticateDelegated(r, FrontProxy(), api).response->status, 401);
  api.tokens["wrong"] = RemoteUser{"bob", "", {}, {}};
  api.reviews_fail = true;  // the API server does not answer: still 401, as kube
  EXPECT_EQ(AuthenticateDelegated(r, FrontProxy(), api).response->status, 401);
  r.authorization = "Basic Ym9iOnB3";
  EXPECT_EQ(AuthenticateDelegated(r, FrontProxy(), api).response->status, 401);
}

TEST(AggregatedAuthTest, EachRequestIsReviewedWithItsResourceAttributes) {
  ScriptedApiServer api;
  RemoteUser alice{"alice", "u-1", {"devs", "system:authenticated"}, {}};
  api.allowed.insert({"alice", "list"});
  HttpRequest list = Request("GET",
                             "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/"
                             "snapshots?labelSelector=a%3Db");
  EXPECT_FALSE(AuthorizeDelegated(list, alice, api));
  ASSERT_EQ(api.access_reviews.size(), 1u);
  const auto& [user, asked] = api.access_reviews[0];
  EXPECT_EQ(user.groups, alice.groups);
  EXPECT_TRUE(asked.resource_request);
  EXPECT_EQ(asked.verb, "list");
  EXPECT_EQ(asked.group, "repositories.stash.appscode.com");
  EXPECT_EQ(asked.version, "v1alpha1");
  EXPECT_EQ(asked.resource, "snapshots");
  EXPECT_EQ(asked.ns, "demo");
  EXPECT_EQ(asked.name, "");

  HttpRequest del = Request(
      "DELETE",
      "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots/r-1a2b3c4d");
  auto denied = AuthorizeDelegated(del, alice, api);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  json body = json::parse(denied->body);
  EXPECT_EQ(body["reason"], "Forbidden");
  EXPECT_EQ(body["message"],
            "snapshots.repositories.stash.appscode.com \"r-1a2b3c4d\" is forbidden: User "
            "\"alice\" cannot delete resource \"snapshots\" in API group "
            "\"repositories.stash.appscode.com\" in the namespace \"demo\"");
  EXPECT_EQ(api.access_reviews[1].second.verb, "delete");
  EXPECT_EQ(api.access_reviews[1].second.name, "r-1a2b3c4d");

  // Discovery is a non-resource request.
  auto discovery = AuthorizeDelegated(Request("GET", "/apis"), alice, api);
  ASSERT_TRUE(discovery);
  EXPECT_FALSE(api.access_reviews[2].second.resource_request);
  EXPECT_EQ(api.access_reviews[2].second.path, "/apis");
  EXPECT_EQ(api.access_reviews[2].second.verb, "get");
  EXPECT_NE(json::parse(discovery->body)["message"].get<std::string>().find(
                "User \"alice\" cannot get path \"/apis\""),
            std::string::npos);
}

TEST(AggregatedAuthTest, AFailedAccessReviewIsAnInternalErrorNotADenial) {
  ScriptedApiServer api;
  api.reviews_fail = true;
  auto r = AuthorizeDelegated(Request("GET", "/apis"), RemoteUser{"alice", "", {}, {}}, api);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("connection refused"), std::string::npos);
}

TEST(AggregatedAuthTest, TheFrontProxySettingsComeFromTheClustersConfigMap) {
  json cm = {{"data",
              {{"requestheader-client-ca-file", "PEM"},
               {"requestheader-allowed-names", R"(["front-proxy-client","aggregator"])"},
               {"requestheader-username-headers", R"(["X-Remote-User"])"},
               {"requestheader-group-headers", R"(["X-Remote-Group"])"},
               {"requestheader-extra-headers-prefix", R"(["X-Remote-Extra-"])"}}}};
  auto parsed = ParseRequestHeaderAuth(cm);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->client_ca_pem, "PEM");
  EXPECT_EQ(parsed->allowed_names, (std::vector<std::string>{"front-proxy-client", "aggregator"}));
  EXPECT_EQ(parsed->group_headers, std::vector<std::string>{"X-Remote-Group"});

  cm["data"]["requestheader-allowed-names"] = "front-proxy-client";
  auto bad = ParseRequestHeaderAuth(cm);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  EXPECT_NE(bad.status().message().find("requestheader-allowed-names"), std::string::npos);

  cm["data"].erase("requestheader-client-ca-file");
  auto none = ParseRequestHeaderAuth(cm);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace stash::api
