// The HTTP backends against real peers behind a misbehaving proxy: outages
// that pass are ridden out, outages that last end in an error that names the
// backend and the operation, and no secret reaches any output.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "conformance_targets.h"
#include "stash/backend/factory.h"
#include "stash/backend/gcs.h"
#include "stash/core/id.h"
#include "stash/core/log.h"
#include "stash/core/testing.h"
#include "testing/fault_proxy.h"
#include "testing/peer_process.h"

namespace stash::backend {
namespace {

using testing::Fault;
using testing::FaultProxy;

const RetryOptions kQuick{.max_attempts = 8,
                          .initial_delay = std::chrono::milliseconds(2),
                          .max_delay = std::chrono::milliseconds(20)};
const std::string kAccessKey = "AKIAFAULTPROXYKEY1";
const std::string kSecretKey = "fault/proxy+secret/key";
const std::string kRestPassword = "rest-fault-pw-77";

#define REQUIRE_PEER(port, why)                                         \
  if ((port) == 0) {                                                    \
    if (PeersRequired()) FAIL() << "peer unavailable in CI: " << (why); \
    GTEST_SKIP() << (why);                                              \
  }

std::string Name(char c) { return std::string(64, c); }

class HttpFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    int port = GetParam() == "rest" ? RestPeerPort(&why) : S3PeerPort(&why);
    REQUIRE_PEER(port, why);
    proxy_ = std::make_unique<FaultProxy>(port);
    static int counter = 0;
    const std::string unique =
        "fault" + std::to_string(::getpid()) + "x" + std::to_string(counter++);
    const std::string at = "127.0.0.1:" + std::to_string(proxy_->port());
    Env env{{"AWS_ACCESS_KEY_ID", kAccessKey}, {"AWS_SECRET_ACCESS_KEY", kSecretKey}};
    std::string repo = GetParam() == "rest"
                           ? "rest:http://user:" + kRestPassword + "@" + at + "/" + unique + "/"
                           : "s3:http://" + at + "/" + unique + "/repo";
    auto b = OpenBackend(repo, env, clock_, random_, kQuick);
    ASSERT_OK(b);
    backend_ = std::move(b).value();
    ASSERT_OK(backend_->Create());
  }

  void ExpectNoSecrets(const std::string& text) {
    for (const std::string& s : {kAccessKey, kSecretKey, kRestPassword}) {
      EXPECT_EQ(text.find(s), std::string::npos) << "secret leaked in: " << text;
    }
  }

  RealClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<FaultProxy> proxy_;
  BackendPtr backend_;
};

TEST_P(HttpFaults, OperationsCompleteThrough500sAndDroppedConnections) {
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  std::vector<uint8_t> data(3 << 20, 0x5a);
  proxy_->Plan({Fault::kHttp500, Fault::kDrop, Fault::kHttp500, Fault::kDrop, Fault::kDrop,
                Fault::kHttp500});
  Status save = backend_->Save(Handle{FileType::kPack, Name('a')}, data);
  Status save2 = backend_->Save(Handle{FileType::kKey, Name('b')}, std::vector<uint8_t>{1, 2});
  proxy_->Plan({Fault::kDrop, Fault::kHttp500});
  std::vector<uint8_t> got;
  Status load = backend_->Load(Handle{FileType::kPack, Name('a')}, 100, 1000, &got);
  proxy_->Plan({Fault::kHttp500, Fault::kDrop});
  int listed = 0;
  Status list = backend_->List(FileType::kPack, [&](const FileInfo&) {
    ++listed;
    return Status::Ok();
  });
  proxy_->Plan({Fault::kDrop});
  Status remove = backend_->Remove(Handle{FileType::kKey, Name('b')});
  std::string output = ::testing::internal::GetCapturedStdout();
  output += ::testing::internal::GetCapturedStderr();

  EXPECT_OK(save);
  EXPECT_OK(save2);
  EXPECT_OK(load);
  EXPECT_EQ(got, std::vector<uint8_t>(1000, 0x5a));
  EXPECT_OK(list);
  EXPECT_EQ(listed, 1);
  EXPECT_OK(remove);
  EXPECT_EQ(proxy_->faults_served(), 11);
  EXPECT_NE(output.find("retrying"), std::string::npos) << "retries should be logged";
  ExpectNoSecrets(output);
}

TEST_P(HttpFaults, AStoreThatStaysDownGivesAnErrorNamingBackendAndOperation) {
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  proxy_->Plan({Fault::kHttp500}, /*forever=*/true);
  Status s = backend_->Save(Handle{FileType::kSnapshot, Name('c')}, std::vector<uint8_t>(10, 1));
  proxy_->Plan({Fault::kDrop}, /*forever=*/true);
  std::vector<uint8_t> out;
  Status load = backend_->Load(Handle{FileType::kIndex, Name('d')}, 0, 0, &out);
  std::string output = ::testing::internal::GetCapturedStdout();
  output += ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(s.code(), Code::kUnavailable) << s;
  EXPECT_TRUE(s.retryable());
  const std::string loc = GetParam() == "rest" ? "rest:http://127.0.0.1:" : "s3:127.0.0.1:";
  EXPECT_NE(s.message().find(loc + std::to_string(proxy_->port())), std::string::npos) << s;
  EXPECT_NE(s.message().find("snapshots/cccccccc"), std::string::npos) << s;
  EXPECT_NE(s.message().find("HTTP 500"), std::string::npos) << s;
  EXPECT_NE(s.message().find("gave up after 8 attempts"), std::string::npos) << s;
  EXPECT_EQ(load.code(), Code::kUnavailable) << load;
  EXPECT_NE(load.message().find("index/dddddddd"), std::string::npos) << load;
  ExpectNoSecrets(s.message() + load.message() + output);
}

INSTANTIATE_TEST_SUITE_P(Http, HttpFaults, ::testing::Values("rest", "s3"),
                         [](const auto& info) { return info.param; });

// A REST server with authentication: the right password works, a wrong one
// fails as Unauthorized without retrying, and neither shows up anywhere.
TEST(RestAuth, WrongPasswordIsUnauthorizedAndNoPasswordIsPrinted) {
  std::string rclone = testing::FindProgram("rclone");
  REQUIRE_PEER(rclone.empty() ? 0 : 1, "rclone is not installed");
  testing::PeerProcess server;
  int port = testing::FreePort();
  const std::string good = "correct-horse-battery-9", bad = "wrong-staple-pw-3";
  Status started = server.Start({rclone, "serve", "restic", "--config", "/dev/null", "--addr",
                                 "127.0.0.1:" + std::to_string(port), "--user", "alice", "--pass",
                                 good, ScratchDir() + "/rclone-auth"},
                                {}, port, ScratchDir() + "/rclone-auth.log");
  ASSERT_OK(started);
  RealClock clock;
  SeededRandom random(3);
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  const std::string base = "127.0.0.1:" + std::to_string(port) + "/authrepo/";
  auto ok = OpenBackend("rest:http://alice:" + good + "@" + base, {}, clock, random, kQuick);
  auto wrong = OpenBackend("rest:http://alice:" + bad + "@" + base, {}, clock, random, kQuick);
  ASSERT_OK(ok);
  ASSERT_OK(wrong);
  Status create = (*ok)->Create();
  Status save = (*ok)->Save(Handle{FileType::kConfig, "config"}, std::vector<uint8_t>{1, 2, 3});
  std::vector<uint8_t> out;
  Status denied = (*wrong)->Load(Handle{FileType::kConfig, "config"}, 0, 0, &out);
  std::string output = ::testing::internal::GetCapturedStdout();
  output += ::testing::internal::GetCapturedStderr();
  EXPECT_OK(create);
  EXPECT_OK(save);
  EXPECT_EQ(denied.code(), Code::kUnauthorized) << denied;
  EXPECT_NE(denied.message().find("check the credentials"), std::string::npos) << denied;
  for (const std::string& text : {output, denied.message(), (*ok)->Location()}) {
    EXPECT_EQ(text.find(good), std::string::npos) << text;
    EXPECT_EQ(text.find(bad), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace stash::backend

namespace stash::backend {
namespace {

// A token endpoint for the OAuth2 JWT-bearer exchange: checks the grant and
// the assertion's shape, hands out numbered tokens, and reports how many.
constexpr const char* kTokenServer = R"PY(
import http.server, json, sys, urllib.parse
count = 0
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(str(count).encode())
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers['Content-Length'])).decode()
        form = urllib.parse.parse_qs(body)
        ok = form.get('grant_type') == ['urn:ietf:params:oauth:grant-type:jwt-bearer'] and \
             len(form.get('assertion', [''])[0].split('.')) == 3
        if not ok:
            self.send_response(400); self.end_headers(); return
        count += 1
        out = json.dumps({'access_token': 'tok-%d' % count, 'expires_in': 3600}).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out))); self.end_headers(); self.wfile.write(out)
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
)PY";

TEST(GcsAuth, FetchesATokenOnceAndRefreshesItBeforeExpiry) {
  std::string python = testing::FindProgram("python3");
  if (python.empty()) GTEST_SKIP() << "python3 is not installed";
  // The storage emulator ignores the bearer token but serves the requests
  // that need one; the token server sees the exchanges.
  std::string storage_why;
  const ConformanceTarget* gcs = nullptr;
  for (const auto* t : AllConformanceTargets()) {
    if (t->name == "gcs") gcs = t;
  }
  ASSERT_NE(gcs, nullptr);
  storage_why = gcs->unavailable();
  REQUIRE_PEER(storage_why.empty() ? 1 : 0, storage_why);
  auto emulator = gcs->make("gcsauth");
  ASSERT_OK(emulator);
  const std::string storage_at =
      (*emulator)->Location().substr((*emulator)->Location().find(" at ") + 4);

  testing::PeerProcess token_server;
  int port = testing::FreePort();
  ASSERT_OK(token_server.Start({python, "-c", kTokenServer, std::to_string(port)}, {}, port,
                               ScratchDir() + "/token-server.log"));
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(bio, &pem);
  nlohmann::json key = {{"type", "service_account"},
                        {"client_email", "ci@demo-test.iam.gserviceaccount.com"},
                        {"private_key", std::string(pem, static_cast<size_t>(pem_len))},
                        {"token_uri", "http://127.0.0.1:" + std::to_string(port) + "/token"}};
  BIO_free(bio);
  EVP_PKEY_free(pkey);

  ManualClock clock(std::chrono::system_clock::now());
  GcsConfig c;
  c.bucket = "gcsauth";
  c.prefix = "repo";
  c.endpoint = storage_at;
  c.service_account_json = key.dump();
  auto b = GcsBackend::Open(c, clock);
  ASSERT_OK(b);
  auto tokens_issued = [&] {
    http::Client http("token-server", http::Options{});
    http::Request req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/count";
    auto r = http.Do(req);
    return r.ok() ? std::stoi(r->body) : -1;
  };
  ASSERT_OK((*b)->Save(Handle{FileType::kKey, std::string(64, '1')}, std::vector<uint8_t>{1}));
  ASSERT_OK((*b)->Stat(Handle{FileType::kKey, std::string(64, '1')}));
  EXPECT_EQ(tokens_issued(), 1) << "the token must be cached";
  clock.Advance(std::chrono::minutes(56));  // within 5 minutes of expiry
  ASSERT_OK((*b)->Stat(Handle{FileType::kKey, std::string(64, '1')}));
  EXPECT_EQ(tokens_issued(), 2) << "the token must be refreshed before it expires";
}

}  // namespace
}  // namespace stash::backend
