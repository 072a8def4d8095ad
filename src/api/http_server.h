// HttpServer: HTTPS/1.1 with keep-alive on one event loop (Boost.Asio,
// OpenSSL on non-blocking sockets), so an idle or silent connection costs a
// socket and a few hundred bytes, not a thread. Requests are decoded on the
// loop and handed to a small pool of worker threads that run the Handler; a
// response either carries a body, an EventStream sent with chunked transfer
// encoding (watches), or an UpgradeHandler that takes the connection over
// after "101 Switching Protocols" (exec/attach over WebSocket or SPDY).
//
// Bounds, so that no client can exhaust the process:
// - connections: at most HttpServerOptions::max_connections (by default the
//   open-file limit less a reserve for the rest of the process; the soft
//   limit is first raised to the hard one, as Go programs do). When full, the
//   oldest connection that has not yet sent an authenticated request (still
//   in the TLS handshake, silent, or idle) is closed to make room, then an
//   idle authenticated one; with none of either, the newcomer is told "503
//   too many connections" (a few at a time) or closed.
// - time: TLS handshake, request (header + body) and keep-alive idle
//   timeouts; a request that times out midway is answered 408.
// - size: header 64 KiB (431), body kMaxRequestBodyBytes (413, also answered
//   at once for a Content-Length over it; a malformed Content-Length is 400),
//   and request bodies buffered at once across all connections (429 beyond).
// Every descriptor it opens is close-on-exec.
//
// Thread-safety: Start/Stop from one thread; the handler is called
// concurrently from the worker threads; UpgradedConnection is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

struct HttpRequest {
  std::string method;
  std::string path;                          // decoded, without the query
  std::map<std::string, std::string> query;  // the last value of each key
  // Every value of a repeated parameter (exec's `command`), in order.
  std::vector<std::pair<std::string, std::string>> query_list;
  std::string accept;
  std::string content_type;
  std::string authorization;
  // Impersonate-User/-Group/-Uid/-Extra-* headers (name, value), in order.
  std::vector<std::pair<std::string, std::string>> impersonation;
  std::string body;
  // Every header, names lower-cased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  // The subject CN of the client certificate, when the server verifies
  // client certificates (HttpServerOptions::client_ca_pem) and the client
  // presented one that chains to that CA; "" without one.
  std::string client_cn;
  std::string Query(const std::string& key, const std::string& fallback = "") const {
    auto it = query.find(key);
    return it == query.end() ? fallback : it->second;
  }
  // The first header named `name` (any case), or "".
  std::string Header(std::string_view name) const;
};

// A streamed response body (a watch).
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Waits up to `until` for more output; appends it to *chunk (possibly
  // nothing). Returns false when the stream has ended. The server calls it
  // with `until` = now from a worker thread, whenever `notify` (below) fires
  // and at least twice a second.
  virtual bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) = 0;
  // Registers a callback to run (from any thread) when Next has more to
  // say; without one the server only polls.
  virtual void SetNotify(std::function<void()> notify) { (void)notify; }
};

// The connection after a 101 answer, as its UpgradeHandler sees it.
class UpgradedConnection {
 public:
  virtual ~UpgradedConnection() = default;
  // Queues bytes to send, in order. Thread-safe.
  virtual void Send(std::string bytes) = 0;
  // Closes the connection once what is queued is sent. Thread-safe.
  virtual void Close() = 0;
  // Stops (true) or resumes (false) reading from the client, so a handler
  // whose consumer is slower than the client holds a bounded backlog (TCP
  // pushes back on the client meanwhile). Thread-safe.
  virtual void PauseReading(bool paused) = 0;
};

// Takes over a connection (kubectl exec / attach / port-forward).
class UpgradeHandler {
 public:
  virtual ~UpgradeHandler() = default;
  // After the 101 answer went out. `early` holds bytes the client sent
  // right behind its request.
  virtual void OnOpen(std::shared_ptr<UpgradedConnection> connection, std::string early) = 0;
  // Bytes from the client. Runs on the server's event loop: never block.
  virtual void OnData(std::string_view bytes) = 0;
  // The connection is gone (either side closed it); called once.
  virtual void OnClose() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<EventStream> stream;
  // With status 101: the handler that takes the connection over.
  std::shared_ptr<UpgradeHandler> upgrade;
  // Set by the handler when the request carried valid credentials; such
  // connections are the last to be closed when connections run out.
  bool authenticated = false;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // 0: the open-file limit less max(64, limit / 8), at most 10,000.
  size_t max_connections = 0;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};  // from a request's first byte
  std::chrono::milliseconds idle_timeout{90'000};     // between keep-alive requests
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 3 * 1024 * 1024;
  // Request bodies held at once, over all connections.
  size_t body_memory = 64 * 1024 * 1024;
  int workers = 8;
  // CA certificates (PEM) that client certificates are verified against.
  // A client certificate is requested, not required (Go's
  // VerifyClientCertIfGiven): a client without one is served (client_cn
  // ""), one whose certificate does not verify fails the TLS handshake.
  // Empty: no client certificate is asked for.
  std::string client_ca_pem;
};

class HttpServer {
 public:
  HttpServer(std::string cert_pem, std::string key_pem, HttpHandler handler,
             HttpServerOptions options = {});
  ~HttpServer();

  // Binds host:port (port 0 = any free port) and starts serving.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // The connection cap in force (after Start).
  size_t max_connections() const { return max_connections_; }
  // Stops accepting, closes every connection and waits for the threads.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  size_t max_connections_ = 0;
};

// Percent-decoding of a URL component ('+' is left alone, as Go does for paths).
std::string UrlDecode(std::string_view s, bool plus_is_space);

// Splits a request target ("/path?k=v&...") into req->path (decoded, without
// the query) and req->query, as the server does for every request; invalid
// UTF-8 in the decoded text becomes U+FFFD.
void ParseRequestTarget(std::string_view target, HttpRequest* req);

}  // namespace stash::api
