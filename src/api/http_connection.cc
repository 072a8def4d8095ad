// One connection of HttpServer: TLS with OpenSSL directly on the
// non-blocking socket (the event loop waits for readiness; OpenSSL's buffers
// are released while idle), then HTTP/1.1 requests parsed by Beast, handled
// on the worker pool, answered whole, streamed in chunks, or upgraded.
#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "http_internal.h"

namespace stash::api {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

namespace {

constexpr size_t kReadChunk = 16 * 1024;
// A stream is asked for more only while less than this waits to be sent.
constexpr size_t kStreamBacklog = 256 * 1024;
constexpr auto kStreamPoll = 500ms;
constexpr auto kRefusalTimeout = 5s;
// Lingering close: at most this long, and this much dropped.
constexpr auto kLingerTime = 5s;
constexpr size_t kLingerBytes = 16 * 1024 * 1024;

// The subject CN of the peer's certificate if it verified against the
// server's client CAs (with SSL_VERIFY_PEER a bad one already failed the
// handshake); "" when the client sent none.
std::string VerifiedClientCn(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509_NAME* subject = X509_get_subject_name(peer);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

}  // namespace

// What an UpgradeHandler writes through; everything runs on the loop.
class Connection::Upgraded final : public UpgradedConnection {
 public:
  Upgraded(std::weak_ptr<Connection> c, std::shared_ptr<LoopHandle> loop)
      : conn_(std::move(c)), loop_(std::move(loop)) {}
  void Send(std::string bytes) override {
    loop_->Post([c = conn_, bytes = std::move(bytes)]() mutable {
      auto self = c.lock();
      if (!self || self->closed_) return;
      self->out_ += bytes;
      self->Flush();
    });
  }
  void Close() override {
    loop_->Post([c = conn_] {
      auto self = c.lock();
      if (!self || self->closed_) return;
      self->after_ = After::kClose;
      self->Flush();
    });
  }
  void PauseReading(bool paused) override {
    loop_->Post([c = conn_, paused] {
      auto self = c.lock();
      if (!self || self->closed_ || self->read_paused_ == paused) return;
      self->read_paused_ = paused;
      if (!paused) self->Read();
    });
  }

 private:
  std::weak_ptr<Connection> conn_;
  std::shared_ptr<LoopHandle> loop_;
};

Connection::Connection(HttpServer::Impl& server, int fd, bool refuse)
    : server_(server),
      socket_(server.io),
      timer_(server.io),
      poll_timer_(server.io),
      refuse_(refuse) {
  boost::system::error_code ec;
  socket_.assign(server.protocol, fd, ec);
  if (ec) ::close(fd);
}

Connection::~Connection() {
  if (ssl_) SSL_free(ssl_);
}

void Connection::Start() {
  if (!socket_.is_open()) {
    Close();
    return;
  }
  SetEvictable(true);
  Arm(refuse_
          ? std::min<std::chrono::milliseconds>(server_.options.handshake_timeout, kRefusalTimeout)
          : server_.options.handshake_timeout,
      &Connection::Close);
  // No TLS state until the client says something: a silent connection
  // costs a socket and this object.
  WaitReadable();
}

void Connection::SetEvictable(bool evictable) {
  if (listed != kNotListed) {
    (listed == kUntrustedList ? server_.idle_untrusted : server_.idle_trusted).erase(list_it);
    listed = kNotListed;
  }
  if (!evictable || closed_ || refuse_) return;
  auto& list = trusted_ ? server_.idle_trusted : server_.idle_untrusted;
  list_it = list.insert(list.end(), this);
  listed = trusted_ ? kTrustedList : kUntrustedList;
}

void Connection::Arm(std::chrono::milliseconds timeout, void (Connection::*on_expiry)()) {
  timer_.expires_after(timeout);
  timer_.async_wait([w = weak_from_this(), on_expiry](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = w.lock(); self && !self->closed_) ((*self).*on_expiry)();
  });
}

void Connection::WaitReadable() {
  if (read_waiting_ || closed_) return;
  read_waiting_ = true;
  socket_.async_wait(net::socket_base::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->read_waiting_ = false;
                       if (!ec && !self->closed_) self->OnReadable();
                     });
}

void Connection::WaitWritable() {
  if (write_waiting_ || closed_) return;
  write_waiting_ = true;
  socket_.async_wait(net::socket_base::wait_write,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->write_waiting_ = false;
                       if (!ec && !self->closed_) self->OnWritable();
                     });
}

void Connection::OnReadable() {
  if (state_ == State::kWaitFirstByte) return BeginTls();
  if (state_ == State::kHandshake) return Handshake();
  if (write_blocked_on_read_) {
    write_blocked_on_read_ = false;
    Flush();
  }
  if (!closed_) Read();
}

void Connection::OnWritable() {
  if (state_ == State::kHandshake) return Handshake();
  if (read_blocked_on_write_) {
    read_blocked_on_write_ = false;
    Read();
  }
  if (!closed_) Flush();
}

void Connection::BeginTls() {
  ssl_ = SSL_new(server_.tls.native_handle());
  if (!ssl_ || SSL_set_fd(ssl_, socket_.native_handle()) != 1) return Close();
  SSL_set_accept_state(ssl_);
  state_ = State::kHandshake;
  Handshake();
}

void Connection::Handshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    client_cn_ = VerifiedClientCn(ssl_);
    // The first request is due right away; later ones may idle.
    return StartRequest(refuse_ ? std::chrono::milliseconds(kRefusalTimeout)
                                : server_.options.handshake_timeout);
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      return WaitReadable();
    case SSL_ERROR_WANT_WRITE:
      return WaitWritable();
    default:
      return Close();  // not TLS, or a failed handshake: nothing to answer
  }
}

void Connection::StartRequest(std::chrono::milliseconds wait) {
  state_ = State::kReading;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
  parser_->body_limit(server_.options.max_body_bytes);
  header_checked_ = false;
  request_started_ = false;
  SetEvictable(true);
  Arm(wait, &Connection::Close);
  if (!in_.empty()) {  // pipelined behind the previous request
    request_started_ = true;
    Arm(server_.options.request_timeout, &Connection::OnRequestTimeout);
    Parse();
    if (closed_ || state_ != State::kReading) return;
  }
  Read();
}

void Connection::Read() {
  char buf[kReadChunk];
  while (!closed_) {
    if (state_ != State::kReading && state_ != State::kStreaming && state_ != State::kUpgraded) {
      return;  // busy answering: the next request waits in the socket
    }
    if (state_ == State::kUpgraded && read_paused_) return;  // PauseReading(false) reads on
    size_t n = 0;
    ERR_clear_error();
    int r = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    if (r == 1) {
      if (state_ == State::kReading) {
        in_.append(buf, n);
        if (!request_started_) {
          request_started_ = true;
          Arm(server_.options.request_timeout, &Connection::OnRequestTimeout);
        }
        Parse();
      } else if (state_ == State::kUpgraded) {
        if (upgrade_) upgrade_->OnData(std::string_view(buf, n));
      }  // while streaming a response, whatever the client sends is dropped
      continue;
    }
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return WaitReadable();
      case SSL_ERROR_WANT_WRITE:
        read_blocked_on_write_ = true;
        return WaitWritable();
      default:
        return Close();  // the client closed its end, or the connection broke
    }
  }
}

void Connection::Parse() {
  while (!closed_ && state_ == State::kReading && parser_ && !in_.empty()) {
    boost::system::error_code ec;
    size_t n = parser_->put(net::buffer(in_), ec);
    if (ec && ec != http::error::need_more) {
      const size_t limit = server_.options.max_body_bytes;
      return Answer(ParseErrorResponse(ec, in_, limit, server_.options.max_header_bytes), false);
    }
    in_.erase(0, n);
    if (parser_->is_header_done() && !header_checked_) {
      header_checked_ = true;
      if (!CheckHeader()) return;
      parser_->eager(true);
    }
    if (parser_->is_done()) return Dispatch();
    if (ec == http::error::need_more || n == 0) return;
  }
}

bool Connection::CheckHeader() {
  if (refuse_) {
    HttpResponse r =
        ServerStatus(503, "ServiceUnavailable",
                     "the API server has too many open connections (" +
                         std::to_string(server_.cap) + "); close idle ones or retry later");
    r.headers.push_back({"Retry-After", "1"});
    Answer(std::move(r), false);
    return false;
  }
  size_t reserve = 0;
  if (auto length = parser_->content_length()) {
    reserve = static_cast<size_t>(*length);
  } else if (parser_->chunked()) {
    reserve = server_.options.max_body_bytes;
  }
  if (reserve > 0) {
    size_t before = server_.body_bytes.fetch_add(reserve);
    if (before + reserve > server_.options.body_memory) {
      server_.body_bytes.fetch_sub(reserve);
      HttpResponse r = ServerStatus(429, "TooManyRequests",
                                    "too many requests are sending bodies at once, please try "
                                    "again later");
      r.headers.push_back({"Retry-After", "1"});
      Answer(std::move(r), false);
      return false;
    }
    body_reserved_ = reserve;
    const auto& req = parser_->get();
    if (auto expect = req[http::field::expect];
        expect.size() == 12 && boost::beast::iequals(expect, "100-continue")) {
      out_ += "HTTP/1.1 100 Continue\r\n\r\n";
      Flush();
    }
  }
  return !closed_;
}

void Connection::Dispatch() {
  BeastRequest req = parser_->release();
  parser_.reset();
  keep_alive_ = req.keep_alive();
  state_ = State::kHandling;
  SetEvictable(false);
  timer_.cancel();
  auto request = std::make_shared<HttpRequest>(ToHttpRequest(std::move(req)));
  request->client_cn = client_cn_;
  server_.workers.Submit([self = shared_from_this(), request, loop = server_.loop,
                          handler = &server_.handler] {
    HttpResponse response;
    try {
      response = (*handler)(*request);
    } catch (const std::exception& e) {
      spdlog::error("API request {} {} failed: {}", request->method, request->path, e.what());
      response = ServerStatus(500, "InternalError", "Internal error occurred: the request failed");
    }
    spdlog::debug("{} {} -> {}", request->method, request->path, response.status);
    loop->Post([self, response = std::move(response)]() mutable {
      self->OnResponse(std::move(response));
    });
  });
}

void Connection::ReleaseBody() {
  if (body_reserved_ > 0) server_.body_bytes.fetch_sub(body_reserved_);
  body_reserved_ = 0;
}

void Connection::OnResponse(HttpResponse response) {
  ReleaseBody();
  if (closed_) return;
  if (response.authenticated) trusted_ = true;
  if (server_.stopping) keep_alive_ = false;
  if (response.status == 101 && response.upgrade) {
    upgrade_ = std::move(response.upgrade);
    state_ = State::kUpgraded;
    out_ += ResponseHead(response, true, false);
    after_ = After::kOpenUpgrade;
    return Flush();
  }
  if (response.stream) {
    stream_ = std::move(response.stream);
    state_ = State::kStreaming;
    out_ += ResponseHead(response, keep_alive_, true);
    stream_->SetNotify([w = weak_from_this(), loop = server_.loop] {
      loop->Post([w] {
        if (auto self = w.lock()) self->PollStream();
      });
    });
    Flush();
    PollStream();
    Read();  // notices a client that goes away
    return;
  }
  Answer(std::move(response), keep_alive_);
}

void Connection::Answer(HttpResponse response, bool keep_alive) {
  if (!keep_alive && state_ == State::kReading && request_started_) linger_ = true;
  state_ = State::kHandling;
  SetEvictable(false);
  out_ += SerializeResponse(response, keep_alive);
  after_ = keep_alive ? After::kNextRequest : After::kClose;
  Arm(server_.options.request_timeout, &Connection::Close);  // a client that does not read
  Flush();
}

void Connection::OnRequestTimeout() {
  Answer(ServerStatus(408, "Timeout",
                      "the request was not received within " +
                          std::to_string(server_.options.request_timeout.count() / 1000) + "s"),
         false);
}

void Connection::Flush() {
  if (write_waiting_ || write_blocked_on_read_) return;  // that wait resumes us
  while (!closed_ && out_pos_ < out_.size()) {
    size_t n = 0;
    ERR_clear_error();
    int r = SSL_write_ex(ssl_, out_.data() + out_pos_, out_.size() - out_pos_, &n);
    if (r == 1) {
      out_pos_ += n;
      continue;
    }
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_WRITE:
        return WaitWritable();
      case SSL_ERROR_WANT_READ:
        write_blocked_on_read_ = true;
        return WaitReadable();
      default:
        return Close();
    }
  }
  if (closed_) return;
  if (out_.capacity() > 1024 * 1024) {
    std::string().swap(out_);
  } else {
    out_.clear();
  }
  out_pos_ = 0;
  AfterFlush();
}

void Connection::AfterFlush() {
  After next = after_;
  after_ = After::kNothing;
  switch (next) {
    case After::kNothing:
      if (state_ == State::kStreaming && poll_again_) PollStream();
      return;
    case After::kClose:
      return linger_ ? Linger() : Close();
    case After::kNextRequest:
      timer_.cancel();
      return StartRequest(server_.options.idle_timeout);
    case After::kOpenUpgrade: {
      timer_.cancel();
      upgraded_ = std::make_shared<Upgraded>(weak_from_this(), server_.loop);
      std::string early = std::move(in_);
      in_.clear();
      upgrade_->OnOpen(upgraded_, std::move(early));
      return Read();
    }
  }
}

void Connection::PollStream() {
  if (closed_ || state_ != State::kStreaming || !stream_) return;
  if (poll_inflight_ || out_.size() - out_pos_ > kStreamBacklog) {
    poll_again_ = true;
    return;
  }
  poll_again_ = false;
  poll_inflight_ = true;
  server_.workers.Submit([self = shared_from_this(), stream = stream_, loop = server_.loop] {
    std::string chunk;
    bool more = false;
    try {
      more = stream->Next(&chunk, std::chrono::steady_clock::now());
    } catch (const std::exception& e) {
      spdlog::error("API watch stream failed: {}", e.what());
    }
    loop->Post([self, chunk = std::move(chunk), more]() mutable {
      self->OnStreamOutput(std::move(chunk), more);
    });
  });
  poll_timer_.expires_after(kStreamPoll);
  poll_timer_.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = w.lock(); !ec && self) self->PollStream();
  });
}

void Connection::OnStreamOutput(std::string chunk, bool more) {
  poll_inflight_ = false;
  if (closed_ || state_ != State::kStreaming) return;
  out_ += Chunk(chunk);
  if (!more) {
    out_ += kLastChunk;
    stream_->SetNotify(nullptr);
    stream_.reset();
    poll_timer_.cancel();
    state_ = State::kHandling;
    after_ = keep_alive_ ? After::kNextRequest : After::kClose;
  }
  Flush();
}

void Connection::Linger() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ::shutdown(socket_.native_handle(), SHUT_WR);
  state_ = State::kHandling;  // nothing reads through TLS any more
  Arm(kLingerTime, &Connection::Close);
  Drain();
}

void Connection::Drain() {
  char buf[kReadChunk];
  while (!closed_) {
    ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
    if (n > 0) {
      drained_ += static_cast<size_t>(n);
      if (drained_ > kLingerBytes) return Close();
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      socket_.async_wait(net::socket_base::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (!ec && !self->closed_) self->Drain();
                         });
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    return Close();  // the client closed too
  }
}

void Connection::Close() {
  if (closed_) return;
  auto self = shared_from_this();  // Forget() drops the server's reference
  closed_ = true;
  SetEvictable(false);
  boost::system::error_code ec;
  timer_.cancel();
  poll_timer_.cancel();
  if (stream_) {
    stream_->SetNotify(nullptr);
    stream_.reset();
  }
  if (ssl_ && handshake_done_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // best effort close_notify; never waits
  }
  socket_.shutdown(net::socket_base::shutdown_both, ec);
  socket_.close(ec);
  ReleaseBody();
  if (upgrade_) {
    auto handler = std::move(upgrade_);
    handler->OnClose();
  }
  server_.Forget(this);
}

}  // namespace stash::api
