#include "operator_health.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stash::cli {

Result<std::unique_ptr<HealthServer>> HealthServer::Start(const std::string& bind,
                                                          std::function<bool()> ready) {
  size_t colon = bind.rfind(':');
  if (colon == std::string::npos) {
    return InvalidError("--health-probe-bind-address must be [HOST]:PORT, e.g. :8081 (got '" +
                        bind + "')");
  }
  std::string host = bind.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    port = std::stoi(bind.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port < 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidError("--health-probe-bind-address must be an IPv4 HOST:PORT, e.g. :8081 (got '" +
                        bind + "')");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(errno, "creating the health probe socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError(err, "listening for health probes on " + bind);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<HealthServer>(
      new HealthServer(fd, ntohs(addr.sin_port), std::move(ready)));
}

HealthServer::HealthServer(int fd, int port, std::function<bool()> ready)
    : fd_(fd), port_(port), ready_(std::move(ready)) {
  thread_ = std::thread([this] { Serve(); });
}

HealthServer::~HealthServer() {
  stopping_ = true;
  ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void HealthServer::Serve() {
  while (!stopping_) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR) continue;
      if (stopping_) return;
      ::usleep(10000);
      continue;
    }
    Answer(c);
    ::close(c);
  }
}

void HealthServer::Answer(int fd) {
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string req;
  char buf[1024];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string line = req.substr(0, req.find("\r\n"));
  int code = 404;
  std::string body = "404 page not found\n";
  if (line.rfind("GET /healthz", 0) == 0 || line.rfind("GET /livez", 0) == 0) {
    code = 200;
    body = "ok";
  } else if (line.rfind("GET /readyz", 0) == 0) {
    bool ok = ready_();
    code = ok ? 200 : 500;
    body = ok ? "ok" : "not ready: the API server has not been reached";
  }
  std::string resp = "HTTP/1.1 " + std::to_string(code) + (code == 200 ? " OK" : " Error") +
                     "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
}

}  // namespace stash::cli
