#include "http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_internal.h"

namespace stash::api {

namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

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

// ---- WorkerPool -------------------------------------------------------------

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      while (true) {
        std::function<void()> task;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
          if (tasks_.empty()) return;
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
      }
    });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

// ---- the event loop's connection bookkeeping -------------------------------

void HttpServer::Impl::AcceptSome() {
  if (stopping || !acceptor) return;
  const int listen_fd = acceptor->native_handle();
  for (int i = 0; i < 256; ++i) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      OnAccepted(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // The process is out of descriptors (something else holds them):
      // shed an idle connection, or turn the waiting client away with the
      // spare descriptor rather than leave it hanging, and try again soon.
      if (EvictOne()) continue;
      if (spare_fd >= 0) {
        ::close(spare_fd);
        int turned_away = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (turned_away >= 0) ::close(turned_away);
        spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      }
      WarnFull();
      accept_retry->expires_after(50ms);
      accept_retry->async_wait([this](const boost::system::error_code& ec) {
        if (!ec) AcceptSome();
      });
      return;
    }
    break;  // EAGAIN: nothing more waiting
  }
  acceptor->async_wait(net::socket_base::wait_read, [this](const boost::system::error_code& ec) {
    if (!ec) AcceptSome();
  });
}

void HttpServer::Impl::OnAccepted(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bool refuse = false;
  if (open >= cap && !EvictOne()) {
    WarnFull();
    if (refusing >= kRefuseSlots) {
      ::close(fd);
      return;
    }
    refuse = true;
  }
  auto c = std::make_shared<Connection>(*this, fd, refuse);
  all[c.get()] = c;
  if (refuse) {
    ++refusing;
  } else {
    ++open;
  }
  c->Start();
}

bool HttpServer::Impl::EvictOne() {
  for (auto* list : {&idle_untrusted, &idle_trusted}) {
    if (!list->empty()) {
      list->front()->Close();
      return true;
    }
  }
  return false;
}

void HttpServer::Impl::Forget(Connection* c) {
  auto it = all.find(c);
  if (it == all.end()) return;
  if (c->refusing()) {
    --refusing;
  } else {
    --open;
  }
  all.erase(it);
}

void HttpServer::Impl::CloseAll() {
  std::vector<std::shared_ptr<Connection>> conns;
  for (auto& [ptr, c] : all) conns.push_back(c);
  for (auto& c : conns) c->Close();
}

void HttpServer::Impl::WarnFull() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_full_warning < 10s) return;
  last_full_warning = now;
  spdlog::warn(
      "API server: {} connections open (the limit, from the open-file limit), none idle; new "
      "connections are refused",
      open);
}

namespace {

// The subjects of the CA certificates in `pem`, sent in the TLS
// CertificateRequest so a client picks the matching certificate.
STACK_OF(X509_NAME) * ClientCaNames(const std::string& pem) {
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert)));
    X509_free(cert);
  }
  ERR_clear_error();  // the end of the PEM text
  BIO_free(bio);
  return names;
}

}  // namespace

// ---- HttpServer -------------------------------------------------------------

HttpServer::HttpServer(std::string cert_pem, std::string key_pem, HttpHandler handler,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), options)) {
  impl_->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  impl_->tls.use_certificate_chain(net::buffer(cert_pem), ec);
  if (!ec) impl_->tls.use_private_key(net::buffer(key_pem), ssl::context::pem, ec);
  if (ec) spdlog::error("API server: loading the serving certificate: {}", ec.message());
  SSL_CTX* ctx = impl_->tls.native_handle();
  // Idle connections give their TLS buffers back; writes may move between
  // retries (the output string grows while a write waits).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (!impl_->options.client_ca_pem.empty()) {
    impl_->tls.add_certificate_authority(net::buffer(impl_->options.client_ca_pem), ec);
    if (ec) {
      spdlog::error("API server: loading the client CA: {}", ec.message());
    } else {
      // Ask for a certificate (listing the CA), verify it when given.
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      SSL_CTX_set_client_CA_list(ctx, ClientCaNames(impl_->options.client_ca_pem));
    }
  }
}

HttpServer::~HttpServer() { Stop(); }

namespace {

// The open-file limit, raised to its hard maximum first (as Go programs,
// kube-apiserver among them, do at start).
size_t RaiseOpenFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = std::min<rlim_t>(rl.rlim_max, 1 << 20);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return static_cast<size_t>(rl.rlim_cur);
}

}  // namespace

Status HttpServer::Start(const std::string& host, int port) {
  Impl& s = *impl_;
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return InvalidError("API server: --listen host '" + host + "' is not an IP address");
  ::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error code, not a signal
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  s.protocol = ep.protocol();
  int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(errno, "API server: creating the listening socket");
  s.acceptor.emplace(s.io);
  s.acceptor->assign(ep.protocol(), fd, ec);
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("API server: cannot listen on " + host + ":" + std::to_string(port) +
                            ": " + ec.message() + " (is another server using the port?)");
  }
  port_ = s.acceptor->local_endpoint().port();
  const size_t nofile = RaiseOpenFileLimit();
  const size_t reserve = std::max<size_t>(64, nofile / 8);
  s.cap = s.options.max_connections > 0 ? s.options.max_connections
          : nofile > reserve + 16       ? std::min<size_t>(10000, nofile - reserve)
                                        : 16;
  max_connections_ = s.cap;
  s.spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  s.accept_retry.emplace(s.io);
  s.guard.emplace(net::make_work_guard(s.io));
  net::post(s.io, [&s] { s.AcceptSome(); });
  s.io_thread = std::thread([&s] { s.io.run(); });
  spdlog::info("API server: at most {} connections (open-file limit {})", s.cap, nofile);
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.io_thread.joinable()) return;
  net::post(s.io, [&s] {
    s.stopping = true;
    boost::system::error_code ec;
    if (s.acceptor) s.acceptor->close(ec);
    if (s.accept_retry) s.accept_retry->cancel();
    s.CloseAll();
  });
  s.guard.reset();
  s.io_thread.join();
  // Handlers still running finish; what they post back finds closed
  // connections.
  s.workers.Stop();
  s.io.restart();
  s.io.poll();
  s.loop->Disable();
  if (s.spare_fd >= 0) ::close(s.spare_fd);
  s.spare_fd = -1;
}

}  // namespace stash::api
