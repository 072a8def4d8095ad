#include "stash/http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <future>
#include <thread>

#include "stash/core/testing.h"

namespace stash::http {
namespace {

// A server on 127.0.0.1 that answers each connection with the next canned
// reply (raw HTTP), records what it was sent and, for replies marked
// `hold`, keeps the connection open until the test ends.
class CannedServer {
 public:
  struct Reply {
    std::string bytes;
    bool hold = false;
  };
  explicit CannedServer(std::vector<Reply> replies) : replies_(std::move(replies)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string request(size_t i) {
    std::lock_guard lock(mu_);
    return i < requests_.size() ? requests_[i] : "";
  }

 private:
  void Serve() {
    for (const Reply& reply : replies_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string got = ReadRequest(c);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(got);
      }
      (void)!::write(c, reply.bytes.data(), reply.bytes.size());
      if (reply.hold) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return done_; });
      }
      ::close(c);
    }
  }
  static std::string ReadRequest(int c) {
    std::string got;
    char buf[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || got.size() < need) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
      size_t end = got.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        size_t cl = got.find("Content-Length: ");
        need = end + 4 + (cl < end ? std::stoul(got.substr(cl + 16)) : 0);
      }
    }
    return got;
  }

  std::vector<Reply> replies_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::vector<std::string> requests_;
};

std::string Answer(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

TEST(StatusError, MapsStatusesToCodesAndRetryability) {
  struct Case {
    long status;
    Code code;
    bool retryable;
  };
  for (Case c : {Case{404, Code::kNotFound, false}, Case{401, Code::kUnauthorized, false},
                 Case{403, Code::kForbidden, false}, Case{409, Code::kConflict, false},
                 Case{400, Code::kInvalid, false}, Case{416, Code::kInvalid, false},
                 Case{408, Code::kUnavailable, true}, Case{429, Code::kResourceExhausted, true},
                 Case{500, Code::kUnavailable, true}, Case{502, Code::kUnavailable, true},
                 Case{503, Code::kUnavailable, true}, Case{501, Code::kUnsupported, false}}) {
    Status s = StatusError(c.status, "x");
    EXPECT_EQ(s.code(), c.code) << c.status;
    EXPECT_EQ(s.retryable(), c.retryable) << c.status;
  }
}

TEST(Client, AnErrorAnswerNamesLocationRequestAndTheServersReasonButNoQuery) {
  CannedServer server(
      {{Answer(404, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>")}});
  Client client("s3:test/bucket", Options{});
  Request req;
  req.url = server.url("/bucket/data/ab?X-Amz-Signature=topsecret");
  auto r = client.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "s3:test/bucket: GET /bucket/data/ab: HTTP 404: NoSuchKey: gone");
}

TEST(Client, AnyStatusHandsBackTheAnswerForTheCallerToRead) {
  CannedServer server({{Answer(409, "{\"reason\":\"AlreadyExists\"}")}});
  Client client("kube", Options{});
  Request req;
  req.url = server.url("/api/v1/namespaces");
  req.any_status = true;
  auto r = client.Do(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(r->body, "{\"reason\":\"AlreadyExists\"}");
}

TEST(Client, SendsMethodHeadersBodyAndBasicAuth) {
  CannedServer server({{Answer(200, "ok")}});
  Client client("rest", Options{});
  const std::string body = "{\"spec\":{}}";
  Request req;
  req.method = "PATCH";
  req.url = server.url("/x/y");
  req.headers = {{"Content-Type", "application/merge-patch+json"}};
  req.body = std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  req.user = "alice";
  req.password = "pw";
  auto r = client.Do(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "ok");
  const std::string sent = server.request(0);
  EXPECT_EQ(sent.rfind("PATCH /x/y HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("Content-Type: application/merge-patch+json\r\n"), std::string::npos);
  EXPECT_NE(sent.find("Authorization: Basic YWxpY2U6cHc=\r\n"), std::string::npos);  // alice:pw
  EXPECT_EQ(sent.substr(sent.size() - body.size()), body);
  EXPECT_EQ(sent.find("Expect:"), std::string::npos);
}

const char kChunkedHead[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(Client, AStreamGetsTheBodyAsItArrivesAndEndsWhenItsCallbackSaysSo) {
  // Two chunks, then the server goes quiet without ending the body.
  CannedServer server({{std::string(kChunkedHead) + "6\r\nline1\n\r\n6\r\nline2\n\r\n", true}});
  Client client("kube", Options{});
  Request req;
  req.url = server.url("/watch");
  std::string got;
  req.stream = [&](std::string_view data) {
    got.append(data);
    return got.find("line2\n") == std::string::npos;
  };
  auto r = client.Do(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got, "line1\nline2\n");
}

TEST(Client, CancellingStopsAStreamThatStaysSilent) {
  CannedServer server({{std::string(kChunkedHead) + "6\r\nline1\n\r\n", true}});
  Client client("kube", Options{});
  std::atomic<bool> cancel{false};
  Request req;
  req.url = server.url("/watch");
  req.cancel = &cancel;
  req.stream = [&](std::string_view) {
    cancel = true;  // as a controller shutting down while the watch is idle
    return true;
  };
  auto r = client.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCancelled) << r.status();
}

TEST(Client, WakeTransfersStopsACancelledStreamAtOnce) {
  CannedServer server({{std::string(kChunkedHead) + "6\r\nline1\n\r\n", true}});
  Options o;
  o.low_speed_bytes = 0;                   // a watch: no stall timer wakes curl
  o.cancel_check = std::chrono::hours(1);  // only the wake-up can end it in time
  Client client("kube", o);
  std::atomic<bool> cancel{false};
  std::promise<void> streaming;
  Request req;
  req.url = server.url("/watch");
  req.cancel = &cancel;
  req.stream = [&](std::string_view) {
    streaming.set_value();
    return true;
  };
  auto done = std::async(std::launch::async, [&] { return client.Do(req); });
  streaming.get_future().wait();
  // Not a wait for a condition: curl's happy-eyeballs timer (200 ms) wakes a
  // new connection's transfer once; past it nothing but WakeTransfers() or
  // cancel_check makes the transfer look at its flag.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  client.WakeTransfers();  // a flag not set: the transfer goes on
  cancel = true;
  client.WakeTransfers();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the woken transfer did not stop";
  auto r = done.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCancelled) << r.status();
}

TEST(Client, AnUnreachableServerIsRetryableWhenTheOptionsSaySo) {
  int port;
  {
    CannedServer gone({});  // takes a free port, then releases it
    port = gone.port();
  }
  Options wait;
  wait.unreachable_is_final = false;  // an API server that is still starting
  Client waiting("kube", wait), storage("rest", Options{});
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto r = waiting.Do(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_TRUE(r.status().retryable());
  r = storage.Do(req);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_FALSE(r.status().retryable());
}

TEST(Client, ScrubsRegisteredSecrets) {
  Client client("x", Options{});
  client.AddSecret("AKIAEXAMPLEKEY");
  EXPECT_EQ(client.Scrub("key AKIAEXAMPLEKEY was AKIAEXAMPLEKEY"), "key [redacted] was [redacted]");
}

}  // namespace
}  // namespace stash::http
