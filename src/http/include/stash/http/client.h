// Client: the one libcurl HTTP client, under the storage backends (REST, S3,
// Azure, GCS) and the Kubernetes API client. It keeps a pool of curl easy
// handles so connections are reused (keep-alive), streams request bodies
// from the caller's buffer and response bodies into the caller's buffer or
// callback (a pack is never held twice; a watch is read as it arrives),
// applies timeouts and TLS options (CA, client certificate), and turns
// every failure into a Status whose code and retryable bit callers act on:
//   5xx, 408, 429, resets, timeouts → retryable
//   unresolvable host, refused/failed connection → retryable, except (with
//     Options::unreachable_is_final, the storage default) while the host has
//     never answered this client: then it is a configuration error and fails
//     at once (restic 0.14 fails the same way: it opens the config file
//     before it wraps the backend in its retrying layer)
//   404 → kNotFound, 401 → kUnauthorized, 403 → kForbidden, 409 → kConflict,
//   412 → kFailedPrecondition, 416/400/other 4xx → kInvalid;
//   Request::any_status hands every answer back instead, for callers that
//   read their server's own error documents (Kubernetes Status objects).
// Messages name the client's location and the request (method and path,
// never the query string, which may hold signatures) and are scrubbed of
// every registered secret.
//
// A transfer with a cancel flag stops within Options::cancel_check (1 s) of
// the flag being set, and at once when whoever sets it then calls WakeTransfers() (a
// stopping watch must not hold its owner's shutdown for that second).
//
// Thread-safety: Do() may be called from many threads at once; each call
// borrows its own curl handles. WakeTransfers() may be called from any
// thread. AddSecret() must happen before concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stash/core/result.h"

namespace stash::http {

struct Options {
  std::string ca_file;          // PEM bundle file to trust; empty: the system's
  std::string ca_pem;           // or the PEM text itself (Stash's CA_CERT_DATA, kubeconfigs)
  std::string client_cert_pem;  // TLS client certificate and key (kubeconfig users)
  std::string client_key_pem;
  bool insecure_tls = false;  // skip certificate verification (test servers)
  std::chrono::milliseconds connect_timeout{30000};
  // A transfer that moves fewer than low_speed_bytes per second for
  // low_speed_time fails with kTimeout (a stalled, not a slow, connection).
  // 0 bytes: no such limit (long-lived watches that may stay silent).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{120};
  std::chrono::milliseconds total_timeout{0};  // 0: no overall limit
  // See the class comment: a storage URL that never answered is a typo, an
  // API server that is not up yet is worth waiting for.
  bool unreachable_is_final = true;
  bool accept_compressed = false;  // ask for gzip/deflate and inflate answers
  // When it becomes true, every transfer of this client (one without its own
  // Request::cancel) stops with kCancelled: a stopped backup's uploads.
  const std::atomic<bool>* cancel = nullptr;
  // How often a waiting transfer looks at its cancel flag on its own; a
  // WakeTransfers() makes it look at once.
  std::chrono::milliseconds cancel_check{1000};
};

struct Request {
  std::string method = "GET";
  std::string url;  // absolute; must not contain credentials
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::span<const uint8_t>> body;  // sent with Content-Length
  std::string user, password;                    // HTTP basic auth, if any
  std::string what;  // for messages ("data/3f2a…"); defaults to the URL path
  // Overrides Options::total_timeout for this request (0: none).
  std::optional<std::chrono::milliseconds> timeout;
  // When set, the response body (whatever the status) is handed here as it
  // arrives instead of being collected; returning false ends the transfer,
  // which is then no error. A streamed transfer that reaches its time limit
  // also ends normally (a watch that ran its course).
  std::function<bool(std::string_view)> stream;
  // When it becomes true the transfer stops with kCancelled (at once
  // after Client::WakeTransfers()).
  const std::atomic<bool>* cancel = nullptr;
  // Return non-2xx answers as a Response (status and body) instead of an
  // error Status.
  bool any_status = false;
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // when neither a sink nor a stream took it
  std::string Header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? "" : it->second;
  }
};

class Client {
 public:
  // `location` prefixes every error message ("s3:127.0.0.1:9000/bucket").
  Client(std::string location, Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Never printed; replaced by "[redacted]" if a server echoes it back.
  void AddSecret(const std::string& secret);

  // Performs one request. A 2xx answer (any answer with any_status) is
  // returned, its body in *sink when given, else in Response::body; anything
  // else becomes an error Status as described above.
  Result<Response> Do(const Request& request, std::vector<uint8_t>* sink = nullptr);

  // Wakes every transfer of this client in flight, so that each looks at
  // its cancel flag now instead of within the second: set the flag first.
  // Transfers whose flag is not set carry on undisturbed.
  void WakeTransfers();

  const std::string& location() const { return location_; }
  // Removes secrets from a message (for callers composing their own).
  std::string Scrub(std::string message) const;

 private:
  // A pooled easy handle and the multi handle it runs in (which holds the
  // connection cache and can be woken), as void* to keep curl.h private.
  struct Handle {
    void* easy = nullptr;
    void* multi = nullptr;
  };
  Handle Acquire();
  void Release(Handle handle);
  // Runs the transfer set up on h.easy to its end, or until *cancel is
  // seen set; returns the CURLcode.
  int Perform(Handle h, const std::atomic<bool>* cancel);
  Status TransportError(const Request& request, int curl_code, long os_errno,
                        const char* detail) const;

  std::string location_;
  Options options_;
  std::vector<std::string> secrets_;
  std::mutex mu_;
  std::vector<Handle> idle_;
  std::mutex waiting_mu_;
  std::set<void*> waiting_;            // multi handles of the transfers in flight
  std::atomic<bool> answered_{false};  // some request reached the server
};

// Maps an HTTP status to a Status code and retryable bit (exposed for tests
// and for callers that read error bodies themselves).
Status StatusError(long status, std::string message);

// Percent-encodes every byte but RFC 3986's unreserved characters
// (A-Z a-z 0-9 - . _ ~), for query values and path segments.
std::string Escape(std::string_view text);

}  // namespace stash::http
