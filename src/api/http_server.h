// HttpServer: HTTPS/1.1 with keep-alive over Boost.Beast, one thread per
// connection (watches are long-lived, blocking streams; a thread each keeps
// them simple and lets 100+ watchers coexist). Requests go to one Handler;
// a response either carries a body or an EventStream that is sent with
// chunked transfer encoding until it ends, the client goes away or the server
// stops.
//
// Thread-safety: Start/Stop from one thread; the handler is called
// concurrently from connection threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

struct HttpRequest {
  std::string method;
  std::string path;  // decoded, without the query
  std::map<std::string, std::string> query;
  std::string accept;
  std::string content_type;
  std::string authorization;
  // Impersonate-User/-Group/-Uid/-Extra-* headers (name, value), in order.
  std::vector<std::pair<std::string, std::string>> impersonation;
  std::string body;
  std::string Query(const std::string& key, const std::string& fallback = "") const {
    auto it = query.find(key);
    return it == query.end() ? fallback : it->second;
  }
};

// A streamed response body (a watch).
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Waits up to `until` for more output; appends it to *chunk (possibly
  // nothing). Returns false when the stream has ended.
  virtual bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<EventStream> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(std::string cert_pem, std::string key_pem, HttpHandler handler);
  ~HttpServer();

  // Binds host:port (port 0 = any free port) and starts accepting.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // Stops accepting, closes every connection and waits for their threads.
  void Stop();

 private:
  struct Impl;
  void AcceptLoop();
  void Serve(int fd);

  std::unique_ptr<Impl> impl_;
  HttpHandler handler_;
  int port_ = 0;
  bool protocol_v6_ = false;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> fds_;
  int active_ = 0;
};

// Percent-decoding of a URL component ('+' is left alone, as Go does for paths).
std::string UrlDecode(std::string_view s, bool plus_is_space);

// Splits a request target ("/path?k=v&...") into req->path (decoded, without
// the query) and req->query, as the server does for every request.
void ParseRequestTarget(std::string_view target, HttpRequest* req);

}  // namespace stash::api
