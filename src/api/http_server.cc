#include "http_server.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace stash::api {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  net::io_context io;
  ssl::context tls{ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
};

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

void ParseRequestTarget(std::string_view target, HttpRequest* req) {
  size_t q = target.find('?');
  req->path = UrlDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    std::string key = UrlDecode(kv.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1), true);
    if (!key.empty()) req->query[key] = value;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

namespace {

HttpRequest Convert(http::request<http::string_body>& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  ParseRequestTarget(std::string_view(req.target().data(), req.target().size()), &r);
  r.accept = std::string(req[http::field::accept]);
  r.content_type = std::string(req[http::field::content_type]);
  r.authorization = std::string(req[http::field::authorization]);
  for (const auto& field : req) {
    std::string name(field.name_string());
    if (name.size() > 12 && strncasecmp(name.c_str(), "impersonate-", 12) == 0) {
      r.impersonation.emplace_back(std::move(name), std::string(field.value()));
    }
  }
  r.body = std::move(req.body());
  return r;
}

// True when the peer has closed its end (a FIN is pending on the socket).
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  return false;
}

}  // namespace

HttpServer::HttpServer(std::string cert_pem, std::string key_pem, HttpHandler handler)
    : impl_(std::make_unique<Impl>()), handler_(std::move(handler)) {
  impl_->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  impl_->tls.use_certificate_chain(net::buffer(cert_pem), ec);
  impl_->tls.use_private_key(net::buffer(key_pem), ssl::context::pem, ec);
  if (ec) spdlog::error("API server: loading the serving certificate: {}", ec.message());
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& host, int port) {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return InvalidError("API server: --listen host '" + host + "' is not an IP address");
  impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl_->acceptor->open(ep.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(ep, ec);
  if (!ec) impl_->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("API server: cannot listen on " + host + ":" + std::to_string(port) +
                            ": " + ec.message() + " (is another server using the port?)");
  }
  port_ = impl_->acceptor->local_endpoint().port();
  protocol_v6_ = addr.is_v6();
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket sock(impl_->io);
    impl_->acceptor->accept(sock, ec);
    if (ec) {
      if (stopping_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    int fd = sock.release(ec);
    if (ec) continue;
    {
      std::lock_guard lock(mu_);
      fds_.insert(fd);
      ++active_;
    }
    std::thread([this, fd] {
      Serve(fd);
      std::lock_guard lock(mu_);
      --active_;
      cv_.notify_all();
    }).detach();
  }
}

void HttpServer::Serve(int fd) {
  net::io_context io;
  boost::system::error_code ec;
  boost::beast::ssl_stream<tcp::socket> stream(
      tcp::socket(io, protocol_v6_ ? tcp::v6() : tcp::v4(), fd), impl_->tls);
  // Runs before `stream` closes the fd. No TLS close_notify exchange: a
  // synchronous SSL shutdown waits for the peer's reply and could hang on a
  // silent client; a FIN is enough for HTTP/1.1 clients. The fd leaves the
  // set while still open, so a new connection reusing the number is kept.
  struct Untrack {
    HttpServer* server;
    int fd;
    ~Untrack() {
      ::shutdown(fd, SHUT_RDWR);
      std::lock_guard lock(server->mu_);
      server->fds_.erase(fd);
    }
  } untrack{this, fd};
  stream.handshake(ssl::stream_base::server, ec);
  if (ec) return;
  boost::beast::flat_buffer buffer;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser, ec);
    if (ec) break;
    http::request<http::string_body> req = parser.release();
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    HttpRequest request = Convert(req);
    HttpResponse response = handler_(request);
    spdlog::debug("{} {} -> {}", request.method, std::string(req.target()), response.status);
    if (response.stream) {
      http::response<http::empty_body> head{static_cast<http::status>(response.status), version};
      head.set(http::field::content_type, response.content_type);
      for (auto& [k, v] : response.headers) head.set(k, v);
      head.chunked(true);
      http::response_serializer<http::empty_body> sr{head};
      http::write_header(stream, sr, ec);
      while (!ec && !stopping_) {
        std::string chunk;
        bool more = response.stream->Next(
            &chunk, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
        if (!chunk.empty()) net::write(stream, http::make_chunk(net::buffer(chunk)), ec);
        if (!more) {
          if (!ec) net::write(stream, http::make_chunk_last(), ec);
          break;
        }
        if (PeerClosed(fd)) ec = net::error::eof;
      }
      if (ec || stopping_) break;
      continue;
    }
    http::response<http::string_body> res{static_cast<http::status>(response.status), version};
    res.set(http::field::content_type, response.content_type);
    for (auto& [k, v] : response.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    http::write(stream, res, ec);
    if (ec || !keep_alive) break;
  }
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  boost::system::error_code ec;
  if (impl_->acceptor) {
    ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
    impl_->acceptor->close(ec);
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock lock(mu_);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  cv_.wait_for(lock, std::chrono::seconds(10), [&] { return active_ == 0; });
}

}  // namespace stash::api
