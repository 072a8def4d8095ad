// The pieces of HttpServer behind its header: the shared state of the event
// loop (HttpServer::Impl), the worker pool and one Connection's state
// machine (TLS over a non-blocking socket, HTTP/1.1 requests, responses,
// chunked streams, upgrades).
//
// Thread-safety: everything here runs on the event loop's thread, except
// WorkerPool::Submit and the atomic counters of Impl.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http_server.h"
#include "http_wire.h"

namespace stash::api {

namespace net = boost::asio;

// A fixed set of threads running submitted tasks in order.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  void Submit(std::function<void()> task);
  void Stop();  // runs what is queued, then joins

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class Connection;

// Posts work to the event loop from any thread, until the loop is gone.
class LoopHandle {
 public:
  explicit LoopHandle(net::io_context* io) : io_(io) {}
  template <typename F>
  void Post(F&& f) {
    std::lock_guard lock(mu_);
    if (io_) net::post(*io_, std::forward<F>(f));
  }
  void Disable() {
    std::lock_guard lock(mu_);
    io_ = nullptr;
  }

 private:
  std::mutex mu_;
  net::io_context* io_;
};

struct HttpServer::Impl {
  // Connections the server is busy telling "too many connections".
  static constexpr size_t kRefuseSlots = 16;

  Impl(HttpHandler h, HttpServerOptions o)
      : handler(std::move(h)), options(o), workers(o.workers > 0 ? o.workers : 1) {}

  HttpHandler handler;
  HttpServerOptions options;
  net::io_context io;
  std::shared_ptr<LoopHandle> loop = std::make_shared<LoopHandle>(&io);
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
  net::ip::tcp protocol = net::ip::tcp::v4();
  net::ssl::context tls{net::ssl::context::tls_server};
  std::optional<net::ip::tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_retry;
  std::thread io_thread;
  WorkerPool workers;
  bool stopping = false;  // event loop only

  // Connections, on the event loop only. Evictable ones are listed in the
  // order they became evictable: those without an authenticated request
  // first, then idle authenticated ones.
  size_t cap = 0;
  size_t open = 0;
  size_t refusing = 0;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> all;
  std::list<Connection*> idle_untrusted;
  std::list<Connection*> idle_trusted;
  int spare_fd = -1;
  std::chrono::steady_clock::time_point last_full_warning;

  std::atomic<size_t> body_bytes{0};  // request bodies reserved, all connections

  void AcceptSome();
  void OnAccepted(int fd);
  bool EvictOne();
  void Forget(Connection* c);
  void CloseAll();
  void WarnFull();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static constexpr int kNotListed = 0, kUntrustedList = 1, kTrustedList = 2;

  Connection(HttpServer::Impl& server, int fd, bool refuse);
  ~Connection();
  void Start();
  // Closes at once (idempotent); the server forgets the connection.
  void Close();
  bool refusing() const { return refuse_; }

  // The server's eviction lists (see Impl).
  int listed = kNotListed;
  std::list<Connection*>::iterator list_it;

 private:
  enum class State { kWaitFirstByte, kHandshake, kReading, kHandling, kStreaming, kUpgraded };
  // What follows once everything queued is sent.
  enum class After { kNothing, kNextRequest, kClose, kOpenUpgrade };
  class Upgraded;

  void SetEvictable(bool evictable);
  void Arm(std::chrono::milliseconds timeout, void (Connection::*on_expiry)());
  void WaitReadable();
  void WaitWritable();
  void OnReadable();
  void OnWritable();
  void OnRequestTimeout();

  void BeginTls();
  void Handshake();
  void StartRequest(std::chrono::milliseconds wait);
  void Read();
  void Parse();
  bool CheckHeader();
  void Dispatch();
  void OnResponse(HttpResponse response);
  void Answer(HttpResponse response, bool keep_alive);
  void Flush();
  void AfterFlush();
  void PollStream();
  void OnStreamOutput(std::string chunk, bool more);
  void ReleaseBody();
  void Linger();
  void Drain();

  HttpServer::Impl& server_;
  net::ip::tcp::socket socket_;
  net::steady_timer timer_;
  net::steady_timer poll_timer_;
  SSL* ssl_ = nullptr;
  const bool refuse_;
  State state_ = State::kWaitFirstByte;
  bool closed_ = false;
  bool trusted_ = false;
  bool handshake_done_ = false;
  std::string client_cn_;  // the verified client certificate's CN, after the handshake
  bool read_waiting_ = false;
  bool write_waiting_ = false;
  bool read_blocked_on_write_ = false;
  bool read_paused_ = false;  // an upgraded connection's handler has enough to chew on
  bool write_blocked_on_read_ = false;

  std::string in_;  // received, not yet parsed
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool header_checked_ = false;
  bool request_started_ = false;
  size_t body_reserved_ = 0;
  bool keep_alive_ = true;

  std::string out_;  // to send
  size_t out_pos_ = 0;
  After after_ = After::kNothing;
  // Closing after an answer to a request whose body was not read: what the
  // client still sends is read and dropped for a while first, so the
  // answer is not lost to a reset.
  bool linger_ = false;
  size_t drained_ = 0;

  std::shared_ptr<EventStream> stream_;
  bool poll_inflight_ = false;
  bool poll_again_ = false;
  std::shared_ptr<UpgradeHandler> upgrade_;
  std::shared_ptr<Upgraded> upgraded_;
};

}  // namespace stash::api
