#include "http_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "certs.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A client over TLS (certificate not verified: the test's own server).
class Client {
 public:
  explicit Client(int port, const std::string& cert_pem = "", const std::string& key_pem = "")
      : stream_(io_, WithCertificate(ctx_, cert_pem, key_pem)) {
    stream_.next_layer().connect(
        {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    stream_.handshake(ssl::stream_base::client);
  }
  void Send(const std::string& raw) { net::write(stream_, net::buffer(raw)); }
  http::response<http::string_body> Get(const std::string& target) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream_, req);
    return Read();
  }
  http::response<http::string_body> Read() {
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    return res;
  }
  std::string ReadSome() {
    char buf[4096];
    size_t n = stream_.read_some(net::buffer(buf));
    return std::string(buf, n);
  }
  ssl::stream<tcp::socket>& stream() { return stream_; }
  // The context, presenting a client certificate if one is given.
  static ssl::context& WithCertificate(ssl::context& ctx, const std::string& cert_pem,
                                       const std::string& key_pem) {
    if (!cert_pem.empty()) {
      ctx.use_certificate_chain(net::buffer(cert_pem));
      ctx.use_private_key(net::buffer(key_pem), ssl::context::pem);
    }
    return ctx;
  }
  boost::beast::flat_buffer& buffer() { return buffer_; }

 private:
  net::io_context io_;
  ssl::context ctx_{ssl::context::tls_client};
  ssl::stream<tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

// Echoes what the client sends after the upgrade, upper-cased.
class Echo final : public UpgradeHandler {
 public:
  void OnOpen(std::shared_ptr<UpgradedConnection> c, std::string early) override {
    conn_ = std::move(c);
    if (!early.empty()) OnData(early);
  }
  void OnData(std::string_view bytes) override {
    std::string up(bytes);
    for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    conn_->Send(up);
    if (up.find("BYE") != std::string::npos) conn_->Close();
  }
  void OnClose() override { closed = true; }
  std::atomic<bool> closed{false};

 private:
  std::shared_ptr<UpgradedConnection> conn_;
};

// Emits "tick\n" each time Fire() is called; ends after `limit`.
class Ticks final : public EventStream {
 public:
  bool Next(std::string* chunk, std::chrono::steady_clock::time_point) override {
    std::lock_guard lock(mu_);
    for (; pending_ > 0; --pending_) *chunk += "tick\n";
    return !ended_;
  }
  void SetNotify(std::function<void()> notify) override {
    std::lock_guard lock(mu_);
    notify_ = std::move(notify);
  }
  void Fire(bool end = false) {
    std::function<void()> n;
    {
      std::lock_guard lock(mu_);
      ++pending_;
      ended_ = end;
      n = notify_;
    }
    if (n) n();
  }

 private:
  std::mutex mu_;
  int pending_ = 0;
  bool ended_ = false;
  std::function<void()> notify_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    auto dir =
        std::filesystem::temp_directory_path() / ("stash-http-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    RealClock clock;
    SeededRandom random(1);
    auto creds = EnsureCredentials(dir.string(), "127.0.0.1", clock, random);
    ASSERT_OK(creds);
    std::filesystem::remove_all(dir);
    server_ = std::make_unique<HttpServer>(
        creds->cert_pem, creds->key_pem, [this](const HttpRequest& r) { return Handle(r); },
        options);
    ASSERT_OK(server_->Start("127.0.0.1", 0));
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  HttpResponse Handle(const HttpRequest& r) {
    HttpResponse resp;
    resp.authenticated = r.authorization == "Bearer ok";
    if (r.path == "/upgrade") {
      resp.status = 101;
      resp.headers = {{"Connection", "Upgrade"}, {"Upgrade", "echo"}};
      resp.upgrade = echo_;
      return resp;
    }
    if (r.path == "/whoami") {
      resp.body = "cn=" + r.client_cn;
      return resp;
    }
    if (r.path == "/stream") {
      resp.stream = ticks_;
      return resp;
    }
    resp.body = r.method + " " + r.path + " " + r.Query("q") + " " + std::to_string(r.body.size());
    return resp;
  }

  int port() { return server_->port(); }

  std::unique_ptr<HttpServer> server_;
  std::shared_ptr<Echo> echo_ = std::make_shared<Echo>();
  std::shared_ptr<Ticks> ticks_ = std::make_shared<Ticks>();
};

TEST_F(HttpServerTest, AnswersRequestsOnAKeptAliveConnection) {
  Start();
  Client c(port());
  auto r1 = c.Get("/a?q=%E2%9C%93");
  EXPECT_EQ(r1.result_int(), 200);
  EXPECT_EQ(r1.body(), "GET /a \xE2\x9C\x93 0");
  auto r2 = c.Get("/b?q=%FF");
  EXPECT_EQ(r2.body(), "GET /b \xEF\xBF\xBD 0");  // invalid UTF-8 replaced
}

TEST_F(HttpServerTest, AClientCertificateIsAskedForVerifiedAndNamedButNotRequired) {
  auto dir = std::filesystem::temp_directory_path() /
             ("stash-http-client-cert-" + std::to_string(::getpid()));
  RealClock clock;
  SeededRandom random(7);
  std::filesystem::create_directories(dir / "proxy");
  std::filesystem::create_directories(dir / "stranger");
  auto proxy = EnsureFrontProxyCredentials((dir / "proxy").string(), clock, random);
  auto stranger = EnsureFrontProxyCredentials((dir / "stranger").string(), clock, random);
  std::filesystem::remove_all(dir);
  ASSERT_OK(proxy);
  ASSERT_OK(stranger);
  HttpServerOptions options;
  options.client_ca_pem = proxy->ca_pem;
  Start(options);

  Client with_cert(port(), proxy->cert_pem, proxy->key_pem);
  EXPECT_EQ(with_cert.Get("/whoami").body(), "cn=front-proxy-client");
  Client without(port());
  auto anonymous = without.Get("/whoami");
  EXPECT_EQ(anonymous.result_int(), 200);
  EXPECT_EQ(anonymous.body(), "cn=");
  // A certificate of another CA fails the handshake (TLS 1.3: the client
  // learns it on its first read).
  EXPECT_ANY_THROW({
    Client forged(port(), stranger->cert_pem, stranger->key_pem);
    forged.Get("/whoami");
  });
  // The server still serves.
  EXPECT_EQ(Client(port(), proxy->cert_pem, proxy->key_pem).Get("/whoami").body(),
            "cn=front-proxy-client");
}

TEST_F(HttpServerTest, RefusesOversizedAndMalformedRequestsWithAStatus) {
  Start();
  {
    Client c(port());
    c.Send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 104857600\r\n\r\n{");
    auto r = c.Read();
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_NE(r.body().find("RequestEntityTooLarge"), std::string::npos);
  }
  {
    Client c(port());
    c.Send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12x\r\n\r\n{}");
    auto r = c.Read();
    EXPECT_EQ(r.result_int(), 400);
    EXPECT_NE(r.body().find("Content-Length"), std::string::npos);
  }
  {
    Client c(port());
    c.Send("GET /x HTTP/1.1\r\nHost: a\r\nX: " + std::string(100000, 'h') + "\r\n\r\n");
    EXPECT_EQ(c.Read().result_int(), 431);
  }
}

TEST_F(HttpServerTest, SilentConnectionsMakeRoomForNewClients) {
  HttpServerOptions options;
  options.max_connections = 3;
  Start(options);
  EXPECT_EQ(server_->max_connections(), 3u);
  net::io_context io;  // outlives the sockets below
  std::vector<std::unique_ptr<tcp::socket>> silent;
  for (int i = 0; i < 20; ++i) {
    auto s = std::make_unique<tcp::socket>(io);
    s->connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port())});
    silent.push_back(std::move(s));
  }
  for (int i = 0; i < 3; ++i) {
    Client c(port());
    EXPECT_EQ(c.Get("/ok").result_int(), 200);
  }
}

TEST_F(HttpServerTest, AFullServerSaysSoWhenNothingCanBeEvicted) {
  HttpServerOptions options;
  options.max_connections = 1;
  Start(options);
  Client streaming(port());
  streaming.Send("GET /stream HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ok\r\n\r\n");
  http::response_parser<http::empty_body> head;
  http::read_header(streaming.stream(), streaming.buffer(), head);
  EXPECT_EQ(head.get().result_int(), 200);
  Client late(port());
  auto r = late.Get("/x");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_NE(r.body().find("too many open connections"), std::string::npos);
  EXPECT_EQ(r[http::field::retry_after], "1");
}

TEST_F(HttpServerTest, StreamsAreWokenByTheirSourceAndEndCleanly) {
  Start();
  Client c(port());
  c.Send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
  http::response_parser<http::string_body> parser;
  http::read_header(c.stream(), c.buffer(), parser);
  EXPECT_EQ(parser.get()[http::field::transfer_encoding], "chunked");
  auto start = std::chrono::steady_clock::now();
  ticks_->Fire();
  ticks_->Fire(/*end=*/true);
  http::read(c.stream(), c.buffer(), parser);
  EXPECT_EQ(parser.get().body(), "tick\ntick\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);  // not a poll tick
  EXPECT_EQ(c.Get("/after").result_int(), 200);                // the connection is reusable
}

TEST_F(HttpServerTest, AnUpgradedConnectionIsHandedOver) {
  Start();
  Client c(port());
  c.Send("GET /upgrade HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello");
  http::response_parser<http::empty_body> head;
  head.skip(true);
  http::read_header(c.stream(), c.buffer(), head);
  EXPECT_EQ(head.get().result_int(), 101);
  std::string got(static_cast<const char*>(c.buffer().data().data()), c.buffer().size());
  while (got.find("HELLO") == std::string::npos) got += c.ReadSome();
  c.Send("and bye");
  while (got.find("AND BYE") == std::string::npos) got += c.ReadSome();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!echo_->closed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(echo_->closed);
}

TEST_F(HttpServerTest, SilentAndIdleConnectionsTimeOut) {
  HttpServerOptions options;
  options.handshake_timeout = 200ms;
  options.idle_timeout = 200ms;
  Start(options);
  net::io_context io;
  tcp::socket silent(io);
  silent.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port())});
  char b;
  boost::system::error_code ec;
  silent.read_some(net::buffer(&b, 1), ec);  // returns once the server closes it
  EXPECT_EQ(ec, net::error::eof);
  Client idle(port());
  EXPECT_EQ(idle.Get("/x").result_int(), 200);
  auto start = std::chrono::steady_clock::now();
  idle.stream().read_some(net::buffer(&b, 1), ec);
  EXPECT_TRUE(ec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace stash::api
