// Paging, expired continue tokens, too-old watches and field-label checks,
// through the transport-agnostic handler (the integration tests drive the same
// paths with kubectl and python3-kubernetes).
#include "paging.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "handler.h"
#include "stash/core/base64.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

class PagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("stash-paging-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // A short change log, so a few writes push a watch's start out of it.
    auto store = Store::Open((dir_ / "state.db").string(), 4);
    ASSERT_OK(store);
    store_ = std::move(*store);
    auto signer = TokenSigner::LoadOrCreate((dir_ / "sa.key").string());
    ASSERT_OK(signer);
    auth_ = std::make_unique<Auth>(*store_, clock_, random_, std::move(*signer), "tok");
    handler_ = std::make_unique<ApiHandler>(*store_, registry_, clock_, random_, *auth_);
    ASSERT_EQ(Call("POST", "/api/v1/namespaces", {}, R"({"metadata":{"name":"demo"}})").status,
              201);
  }
  void TearDown() override {
    handler_.reset();
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    std::map<std::string, std::string> query = {}, std::string body = "") {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.query = std::move(query);
    req.accept = "application/json";
    req.content_type = "application/json";
    req.authorization = "Bearer tok";
    req.body = std::move(body);
    return handler_->Handle(req);
  }
  void CreateConfigMap(const std::string& name) {
    ASSERT_EQ(Call("POST", kCms, {}, R"({"metadata":{"name":")" + name + R"("}})").status, 201);
  }
  static json Body(const HttpResponse& r) { return json::parse(r.body); }
  static std::vector<std::string> Names(const json& list) {
    std::vector<std::string> out;
    for (const json& item : list["items"]) out.push_back(item["metadata"]["name"]);
    return out;
  }

  static constexpr const char* kCms = "/api/v1/namespaces/demo/configmaps";
  std::filesystem::path dir_;
  ManualClock clock_;
  SeededRandom random_{7};
  Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(PagingTest, PagesShowTheListAsOfTheFirstPage) {
  for (int i = 0; i < 25; ++i) CreateConfigMap("cm-" + std::to_string(100 + i));
  json first = Body(Call("GET", kCms, {{"limit", "10"}}));
  ASSERT_EQ(first["items"].size(), 10u);
  EXPECT_EQ(first["metadata"]["remainingItemCount"], 15);
  const std::string rv = first["metadata"]["resourceVersion"];
  // Changes after the first page do not show on later pages.
  CreateConfigMap("cm-999");
  ASSERT_EQ(Call("DELETE", std::string(kCms) + "/cm-124").status, 200);

  std::vector<std::string> all = Names(first);
  std::string cont = first["metadata"]["continue"];
  while (!cont.empty()) {
    HttpResponse r = Call("GET", kCms, {{"limit", "10"}, {"continue", cont}});
    ASSERT_EQ(r.status, 200) << r.body;
    json page = Body(r);
    EXPECT_EQ(page["metadata"]["resourceVersion"], rv);
    for (auto& n : Names(page)) all.push_back(n);
    cont = page["metadata"].value("continue", "");
  }
  ASSERT_EQ(all.size(), 25u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 25u);
  EXPECT_EQ(all.front(), "cm-100");
  EXPECT_EQ(all.back(), "cm-124");
}

TEST_F(PagingTest, AnExpiredTokenIs410WithAnInconsistentContinuation) {
  for (int i = 0; i < 6; ++i) CreateConfigMap("cm-" + std::to_string(i));
  json first = Body(Call("GET", kCms, {{"limit", "4"}}));
  std::string cont = first["metadata"]["continue"];
  CreateConfigMap("cm-6");
  clock_.Advance(std::chrono::minutes(6));  // past the snapshot's lifetime

  HttpResponse gone = Call("GET", kCms, {{"limit", "4"}, {"continue", cont}});
  ASSERT_EQ(gone.status, 410);
  json status = Body(gone);
  EXPECT_EQ(status["reason"], "Expired");
  EXPECT_NE(status["message"].get<std::string>().find("too old to display a consistent list"),
            std::string::npos);
  std::string inconsistent = status["metadata"]["continue"];
  json rest = Body(Call("GET", kCms, {{"limit", "4"}, {"continue", inconsistent}}));
  EXPECT_EQ(Names(rest), (std::vector<std::string>{"cm-4", "cm-5", "cm-6"}));
}

TEST_F(PagingTest, AnUnchangedListOutlivesItsSnapshot) {
  for (int i = 0; i < 6; ++i) CreateConfigMap("cm-" + std::to_string(i));
  json first = Body(Call("GET", kCms, {{"limit", "4"}}));
  clock_.Advance(std::chrono::minutes(6));
  HttpResponse r = Call("GET", kCms, {{"limit", "4"}, {"continue", first["metadata"]["continue"]}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Names(Body(r)), (std::vector<std::string>{"cm-4", "cm-5"}));
}

TEST_F(PagingTest, BadTokensAre400) {
  CreateConfigMap("a");
  CreateConfigMap("b");
  for (const std::string& bad :
       std::vector<std::string>{"not base64!", Base64Encode("{}"), Base64Encode("[1,2]")}) {
    HttpResponse r = Call("GET", kCms, {{"limit", "1"}, {"continue", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(Body(r)["message"].get<std::string>().find("invalid continue token"),
              std::string::npos);
  }
  json first = Body(Call("GET", kCms, {{"limit", "1"}}));
  HttpResponse r = Call("GET", kCms,
                        {{"continue", first["metadata"]["continue"]},
                         {"resourceVersion", first["metadata"]["resourceVersion"]}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["message"], "specifying resource version is not allowed when using continue");
}

TEST_F(PagingTest, UnsupportedFieldLabelsAre400ForListsAndWatches) {
  for (const char* watch : {"false", "true"}) {
    HttpResponse r = Call("GET", "/api/v1/namespaces/demo/events",
                          {{"watch", watch}, {"fieldSelector", "involvedObject.name=x,foo=bar"}});
    ASSERT_EQ(r.status, 400) << watch;
    EXPECT_EQ(Body(r)["message"], "field label not supported: foo");
    EXPECT_EQ(Body(r)["reason"], "BadRequest");
  }
  EXPECT_EQ(
      Call("GET", "/api/v1/namespaces/demo/events", {{"fieldSelector", "type=Warning"}}).status,
      200);
  EXPECT_EQ(Call("GET", kCms, {{"fieldSelector", "data.x=1"}}).status, 400);
}

TEST_F(PagingTest, AWatchFromBeforeTheLogGetsAnExpiredErrorEvent) {
  CreateConfigMap("first");
  const std::string old_rv = Body(Call("GET", kCms))["metadata"]["resourceVersion"];
  for (int i = 0; i < 300; ++i) {  // the log is pruned in batches of 256 writes
    ASSERT_EQ(Call("PUT", std::string(kCms) + "/first", {},
                   R"({"metadata":{"name":"first"},"data":{"i":")" + std::to_string(i) + R"("}})")
                  .status,
              200);
  }
  HttpResponse r = Call("GET", kCms, {{"watch", "true"}, {"resourceVersion", old_rv}});
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream);
  std::string chunk;
  EXPECT_FALSE(r.stream->Next(&chunk, std::chrono::steady_clock::now()));
  json event = json::parse(chunk);
  EXPECT_EQ(event["type"], "ERROR");
  EXPECT_EQ(event["object"]["code"], 410);
  EXPECT_EQ(event["object"]["reason"], "Expired");
  EXPECT_EQ(event["object"]["message"].get<std::string>().rfind("too old resource version: ", 0),
            0u);
}

}  // namespace
}  // namespace stash::api
