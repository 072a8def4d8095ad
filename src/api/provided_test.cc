// Resources served by a ResourceProvider, through the handler as kubectl
// reaches them: discovery, get/list (selectors, Tables), delete, errors and
// the verbs such a resource does not have.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "handler.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

class FakeProvider : public ResourceProvider {
 public:
  Result<json> Get(const std::string& ns, const std::string& name) override {
    for (const json& o : objects) {
      if (o["metadata"]["name"] == name) return o;
    }
    if (name == "broken") return UnauthorizedError("wrong password or no key found");
    return NotFoundError("widgets.example.com \"" + name + "\" not found");
  }
  Result<std::vector<json>> List(const std::string& ns, const LabelSelector& labels) override {
    last_selector = labels.ToString();
    return objects;
  }
  Result<json> Delete(const std::string& ns, const std::string& name) override {
    STASH_ASSIGN_OR_RETURN(json o, Get(ns, name));
    deleted.push_back(name);
    return o;
  }
  std::vector<json> objects;
  std::vector<std::string> deleted;
  std::string last_selector;
};

class ProvidedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("stash-provided-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto store = Store::Open((dir_ / "state.db").string());
    ASSERT_OK(store);
    store_ = std::move(*store);
    provider_ = std::make_shared<FakeProvider>();
    for (const char* n : {"w-1", "w-2"}) {
      provider_->objects.push_back(
          {{"metadata",
            {{"name", n},
             {"namespace", "demo"},
             {"uid", std::string("uid-") + n},
             {"labels", {{"color", n == std::string("w-1") ? "red" : "blue"}}}}},
           {"status", {{"size", 3}}}});
    }
    ProvidedResource r;
    r.group = "example.com";
    r.version = "v1";
    r.resource = "widgets";
    r.kind = "Widget";
    r.singular = "widget";
    PrinterColumn name;
    name.name = "Name";
    name.type = "string";
    name.format = "name";
    name.json_path = ".metadata.name";
    PrinterColumn size;
    size.name = "Size";
    size.type = "integer";
    size.json_path = ".status.size";
    r.columns = {name, size};
    registry_.AddProvided(r, provider_);
    auto signer = TokenSigner::LoadOrCreate((dir_ / "sa.key").string());
    ASSERT_OK(signer);
    auth_ = std::make_unique<Auth>(*store_, clock_, random_, std::move(*signer), "tok");
    handler_ = std::make_unique<ApiHandler>(*store_, registry_, clock_, random_, *auth_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HttpResponse Do(std::string method, std::string path,
                  std::map<std::string, std::string> query = {},
                  std::string accept = "application/json") {
    HttpRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.query = std::move(query);
    req.accept = std::move(accept);
    req.authorization = "Bearer tok";
    return handler_->Handle(req);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  Registry registry_;
  ManualClock clock_;
  SeededRandom random_{1};
  std::shared_ptr<FakeProvider> provider_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ProvidedTest, DiscoveryNamesOnlyTheProvidersVerbs) {
  HttpResponse r = Do("GET", "/apis/example.com/v1");
  ASSERT_EQ(r.status, 200);
  json list = json::parse(r.body);
  ASSERT_EQ(list["resources"].size(), 1u);
  EXPECT_EQ(list["resources"][0]["verbs"], json({"delete", "get", "list"}));
}

TEST_F(ProvidedTest, GetListAndTables) {
  const std::string base = "/apis/example.com/v1/namespaces/demo/widgets";
  HttpResponse r = Do("GET", base + "/w-1");
  ASSERT_EQ(r.status, 200) << r.body;
  json obj = json::parse(r.body);
  EXPECT_EQ(obj["kind"], "Widget");
  EXPECT_EQ(obj["apiVersion"], "example.com/v1");

  r = Do("GET", base, {{"labelSelector", "color=blue"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json list = json::parse(r.body);
  EXPECT_EQ(list["kind"], "WidgetList");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "w-2");
  EXPECT_EQ(provider_->last_selector, "color=blue");

  r = Do("GET", base, {}, "application/json;as=Table;v=v1;g=meta.k8s.io");
  json table = json::parse(r.body);
  ASSERT_EQ(table["columnDefinitions"].size(), 2u);
  EXPECT_EQ(table["columnDefinitions"][1]["name"], "Size");
  EXPECT_EQ(table["rows"][1]["cells"], json({"w-2", 3}));
}

TEST_F(ProvidedTest, DeleteAndErrors) {
  const std::string base = "/apis/example.com/v1/namespaces/demo/widgets";
  HttpResponse r = Do("DELETE", base + "/w-2");
  ASSERT_EQ(r.status, 200) << r.body;
  json status = json::parse(r.body);
  EXPECT_EQ(status["status"], "Success");
  EXPECT_EQ(status["details"]["name"], "w-2");
  EXPECT_EQ(status["details"]["uid"], "uid-w-2");
  EXPECT_EQ(provider_->deleted, std::vector<std::string>{"w-2"});

  r = Do("GET", base + "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["message"], "widgets.example.com \"nope\" not found");
  // The provider's credentials problem is the server's, never the caller's 401.
  r = Do("GET", base + "/broken");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json::parse(r.body)["message"],
            "Internal error occurred: wrong password or no key found");
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", base}, {"PUT", base + "/w-1"}, {"PATCH", base + "/w-1"}, {"DELETE", base}}) {
    EXPECT_EQ(Do(method, path).status, 405) << method << " " << path;
  }
  EXPECT_EQ(Do("GET", base, {{"watch", "true"}}).status, 405);
}

}  // namespace
}  // namespace stash::api
