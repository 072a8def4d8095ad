#include <gtest/gtest.h>

#include "stash/backend/url.h"
#include "stash/core/testing.h"
#include "stash/http/client.h"
#include "testing/fault_proxy.h"
#include "testing/peer_process.h"

namespace stash::backend {
namespace {

TEST(Url, SplitsCredentialsFromTheAddress) {
  auto u = ParseUrl("http://alice:p%40ss@127.0.0.1:8000/repo/sub/?x=1");
  ASSERT_OK(u);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "p@ss");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8000);
  EXPECT_EQ(u->path, "/repo/sub/");
  EXPECT_EQ(u->query, "x=1");
  EXPECT_EQ(u->Redacted(), "http://127.0.0.1:8000/repo/sub/");
  EXPECT_EQ(ParseUrl("https://s3.amazonaws.com")->HostHeader(), "s3.amazonaws.com");
  EXPECT_EQ(ParseUrl("http://[::1]:9/")->HostHeader(), "[::1]:9");
}

TEST(Url, RejectionsDoNotEchoTheUrl) {
  auto u = ParseUrl("ftp://bob:hunter22@host/");
  EXPECT_EQ(u.status().code(), Code::kInvalid);
  EXPECT_EQ(u.status().message().find("hunter22"), std::string::npos);
  EXPECT_FALSE(ParseUrl("http://host:99999/").ok());
  EXPECT_FALSE(ParseUrl("host/path").ok());
}

TEST(Url, EncodesLikeSigV4Expects) {
  EXPECT_EQ(UriEncode("a b/c~d*e", false), "a%20b%2Fc~d%2Ae");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriDecode("a%20b%2f"), "a b/");
  EXPECT_TRUE(IsIpOrSingleLabel("127.0.0.1"));
  EXPECT_TRUE(IsIpOrSingleLabel("minio"));
  EXPECT_FALSE(IsIpOrSingleLabel("s3.eu-west-1.amazonaws.com"));
}

// Nothing ever listened there: a wrong port or a stopped server, which no
// amount of retrying fixes.
TEST(HttpClient, RefusedByAHostThatNeverAnsweredFailsAtOnceNamingLocationAndRequest) {
  int port = testing::FreePort();
  http::Client client("rest:http://127.0.0.1:" + std::to_string(port) + "/repo/", http::Options{});
  client.AddSecret("topsecretpw");
  http::Request req;
  req.method = "HEAD";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/repo/config?sig=topsecretpw";
  req.user = "u";
  req.password = "topsecretpw";
  auto r = client.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_FALSE(r.status().retryable());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("rest:http://127.0.0.1"), std::string::npos) << m;
  EXPECT_NE(m.find("HEAD /repo/config"), std::string::npos) << m;
  EXPECT_EQ(m.find("topsecretpw"), std::string::npos) << m;
  EXPECT_EQ(m.find("sig="), std::string::npos) << m;
}

TEST(HttpClient, RefusedAfterTheHostAnsweredIsRetryable) {
  auto proxy = std::make_unique<testing::FaultProxy>(testing::FreePort());
  proxy->Plan({testing::Fault::kHttp500}, /*forever=*/true);
  const std::string base = "http://127.0.0.1:" + std::to_string(proxy->port());
  http::Client client("rest:" + base + "/", http::Options{});
  http::Request req;
  req.method = "HEAD";
  req.url = base + "/config";
  auto r = client.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("HTTP 500"), std::string::npos) << r.status();
  proxy.reset();  // the server restarts: refused for a while
  r = client.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status();
  EXPECT_TRUE(r.status().retryable()) << r.status();
}

TEST(HttpClient, UnresolvableHostFailsAtOnceNamingTheHost) {
  http::Client client("s3:no-such-host.invalid/bucket", http::Options{});
  http::Request req;
  req.method = "HEAD";
  req.url = "http://no-such-host.invalid/bucket/config";
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status();
  EXPECT_FALSE(r.status().retryable()) << r.status();
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("s3:no-such-host.invalid/bucket: HEAD /bucket/config"), std::string::npos) << m;
  EXPECT_NE(m.find("resolve host"), std::string::npos) << m;
  EXPECT_NE(m.find("check the host name"), std::string::npos) << m;
}

}  // namespace
}  // namespace stash::backend
