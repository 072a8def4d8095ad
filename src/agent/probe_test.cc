#include "stash/agent/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "stash/core/testing.h"

namespace stash::agent {
namespace {

using namespace std::chrono_literals;

// A one-connection-at-a-time HTTP server on 127.0.0.1 answering `status`,
// recording the requests it got.
class TinyHttp {
 public:
  explicit TinyHttp(int status) : status_(status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttp() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string last() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void Serve() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      for (;;) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        size_t head = req.find("\r\n\r\n");
        if (head == std::string::npos) continue;
        size_t cl = req.find("Content-Length: ");
        size_t want = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
        if (req.size() >= head + 4 + want) break;
      }
      {
        std::lock_guard lock(mu_);
        last_ = req;
      }
      std::string res = "HTTP/1.1 " + std::to_string(status_) +
                        " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int status_;
  int fd_;
  int port_;
  std::mutex mu_;
  std::string last_;
  std::thread thread_;
};

apis::Handler HttpGet(int port, const std::string& path) {
  apis::Handler h;
  h.http_get = apis::HTTPAction{};
  h.http_get->port = port;
  h.http_get->path = path;
  return h;
}

TEST(Probe, HttpGetSucceedsOn2xxAnd3xxAndFailsWithKubeletsMessage) {
  TinyHttp ok(200), moved(302), broken(500);
  HookTarget pod;
  EXPECT_OK(RunHandler(HttpGet(ok.port(), "/pre?x=1"), pod, 5s));
  EXPECT_NE(ok.last().find("GET /pre?x=1 HTTP/1.1"), std::string::npos) << ok.last();
  EXPECT_NE(ok.last().find("User-Agent: kube-probe/"), std::string::npos);
  EXPECT_OK(RunHandler(HttpGet(moved.port(), "/"), pod, 5s));
  Status s = RunHandler(HttpGet(broken.port(), "/"), pod, 5s);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("HTTP probe failed with statuscode: 500"), std::string::npos)
      << s.message();
  // A named port of the container.
  apis::Handler named = HttpGet(0, "/");
  named.http_get->port = "web";
  pod.named_ports["web"] = ok.port();
  EXPECT_OK(RunHandler(named, pod, 5s));
  named.http_get->port = "nope";
  EXPECT_NE(RunHandler(named, pod, 5s).message().find("\"nope\""), std::string::npos);
}

TEST(Probe, HttpPostSendsBodyOrFormAndHeaders) {
  TinyHttp srv(201);
  apis::Handler h;
  h.http_post = apis::HTTPAction{};
  h.http_post->port = srv.port();
  h.http_post->path = "/hook";
  h.http_post->http_headers = {{"X-Stash", "yes"}};
  h.http_post->form = {{"name", {"a b", "c"}}};
  ASSERT_OK(RunHandler(h, HookTarget{}, 5s));
  const std::string req = srv.last();
  EXPECT_NE(req.find("POST /hook HTTP/1.1"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Stash: yes"), std::string::npos);
  EXPECT_NE(req.find("name=a%20b&name=c"), std::string::npos) << req;
  h.http_post->body = "{\"k\":1}";
  ASSERT_OK(RunHandler(h, HookTarget{}, 5s));
  EXPECT_NE(srv.last().find("{\"k\":1}"), std::string::npos);
}

TEST(Probe, TcpSocketAndExec) {
  TinyHttp srv(200);
  apis::Handler tcp;
  tcp.tcp_socket = apis::TCPSocketAction{};
  tcp.tcp_socket->port = srv.port();
  EXPECT_OK(RunHandler(tcp, HookTarget{}, 5s));
  tcp.tcp_socket->port = 1;  // nothing listens on port 1
  EXPECT_FALSE(RunHandler(tcp, HookTarget{}, 5s).ok());

  apis::Handler exec;
  exec.exec = apis::ExecAction{};
  exec.exec->command = {"sh", "-c", "test \"$GREETING\" = hello"};
  HookTarget pod;
  pod.env["GREETING"] = "hello";
  EXPECT_OK(RunHandler(exec, pod, 5s));
  exec.exec->command = {"sh", "-c", "echo broken >&2; exit 3"};
  Status s = RunHandler(exec, pod, 5s);
  EXPECT_NE(s.message().find("exited with 3: broken"), std::string::npos) << s.message();
  exec.exec->command = {"sleep", "30"};
  auto t0 = std::chrono::steady_clock::now();
  s = RunHandler(exec, pod, 300ms);
  EXPECT_EQ(s.code(), Code::kTimeout) << s.message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  exec.exec->command = {"no-such-command-here"};
  EXPECT_NE(RunHandler(exec, pod, 5s).message().find("executable file not found"),
            std::string::npos);
  EXPECT_EQ(RunHandler(apis::Handler{}, pod, 5s).code(), Code::kInvalid);
}

TEST(ProbeStreak, FlipsAtItsThresholdsAsKubelets) {
  apis::Probe probe;  // defaults: success 1, failure 3
  ProbeStreak s;
  EXPECT_FALSE(s.ready);
  EXPECT_FALSE(s.Record(false, probe));  // not Ready from the start
  EXPECT_TRUE(s.Record(true, probe));    // one success is enough
  EXPECT_TRUE(s.ready);
  EXPECT_FALSE(s.Record(false, probe));
  EXPECT_FALSE(s.Record(false, probe));
  EXPECT_FALSE(s.Record(true, probe));  // a success breaks the run of failures
  EXPECT_FALSE(s.Record(false, probe));
  EXPECT_FALSE(s.Record(false, probe));
  EXPECT_TRUE(s.Record(false, probe));  // the third in a row
  EXPECT_FALSE(s.ready);

  probe.success_threshold = 2;
  probe.failure_threshold = 1;
  ProbeStreak t;
  EXPECT_FALSE(t.Record(true, probe));
  EXPECT_FALSE(t.Record(false, probe));
  EXPECT_FALSE(t.Record(true, probe));
  EXPECT_TRUE(t.Record(true, probe));
  EXPECT_TRUE(t.Record(false, probe));
  EXPECT_FALSE(t.ready);
}

TEST(Probe, ReadinessProbesRunHttpGetTcpSocketAndExecThroughTheCaller) {
  TinyHttp ok(204), broken(503);
  apis::Container c;
  c.ports = {{.name = "web", .container_port = ok.port()}, {.container_port = 1}};
  HookTarget pod;
  pod.named_ports = NamedPorts(c);
  EXPECT_EQ(pod.named_ports, (std::map<std::string, int>{{"web", ok.port()}}));
  std::vector<std::string> ran;
  const ProbeExec exec = [&](const std::vector<std::string>& command, Duration timeout) {
    ran = command;
    EXPECT_EQ(timeout, 4s);
    return command[0] == "true" ? Status::Ok() : UnavailableError("command exited with 1");
  };

  apis::Probe probe;
  probe.timeout_seconds = 4;
  EXPECT_FALSE(HasProbeAction(probe));
  EXPECT_EQ(RunProbe(probe, pod, exec).code(), Code::kInvalid);
  probe.http_get = apis::HTTPAction{};
  probe.http_get->port = "web";
  probe.http_get->path = "healthz";
  probe.http_get->http_headers = {{"X-Probe", "1"}};
  EXPECT_TRUE(HasProbeAction(probe));
  EXPECT_OK(RunProbe(probe, pod, exec));
  EXPECT_NE(ok.last().find("GET /healthz HTTP/1.1"), std::string::npos) << ok.last();
  EXPECT_NE(ok.last().find("X-Probe: 1"), std::string::npos) << ok.last();
  probe.http_get->port = broken.port();
  EXPECT_NE(RunProbe(probe, pod, exec).message().find("HTTP probe failed with statuscode: 503"),
            std::string::npos);

  probe.http_get.reset();
  probe.tcp_socket = apis::TCPSocketAction{};
  probe.tcp_socket->port = "web";
  EXPECT_OK(RunProbe(probe, pod, exec));
  probe.tcp_socket->port = 1;
  EXPECT_NE(RunProbe(probe, pod, exec).message().find("dial tcp 127.0.0.1:1"), std::string::npos);

  probe.tcp_socket.reset();
  probe.exec = apis::ExecAction{.command = {"true"}};
  EXPECT_OK(RunProbe(probe, pod, exec));
  EXPECT_EQ(ran, std::vector<std::string>{"true"});
  probe.exec->command = {"false"};
  EXPECT_FALSE(RunProbe(probe, pod, exec).ok());
}

TEST(Probe, ExecutionPolicies) {
  EXPECT_TRUE(AllowedByExecutionPolicy("", "Failed", 1));
  EXPECT_TRUE(AllowedByExecutionPolicy("Always", "Succeeded", 0));
  EXPECT_TRUE(AllowedByExecutionPolicy("OnSuccess", "Succeeded", 0));
  EXPECT_FALSE(AllowedByExecutionPolicy("OnSuccess", "Failed", 0));
  EXPECT_TRUE(AllowedByExecutionPolicy("OnFailure", "Failed", 2));
  EXPECT_FALSE(AllowedByExecutionPolicy("OnFinalRetryFailure", "Failed", 1));
  EXPECT_TRUE(AllowedByExecutionPolicy("OnFinalRetryFailure", "Failed", 0));
}

}  // namespace
}  // namespace stash::agent
