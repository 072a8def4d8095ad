// HttpClient: the libcurl-based client under the REST, S3, Azure and GCS
// backends. It keeps a pool of curl easy handles so connections are reused
// (keep-alive), streams request bodies from the caller's buffer and response
// bodies into the caller's buffer (a pack is never held twice), applies
// timeouts and TLS options, and turns every failure into a Status whose code
// and retryable bit the retry decorator can act on:
//   5xx, 408, 429, resets, timeouts → retryable
//   unresolvable host, refused/failed connection → retryable only once the
//     host has answered this client before (a restart or a network blip);
//     a host that never answered is a configuration error and fails at once
//     (restic 0.14 fails the same way: it opens the config file before it
//     wraps the backend in its retrying layer)
//   404 → kNotFound, 401 → kUnauthorized, 403 → kForbidden, 409 → kConflict,
//   412 → kFailedPrecondition, 416/400/other 4xx → kInvalid.
// Messages name the backend location and the request (method and path, never
// the query string, which may hold signatures) and are scrubbed of every
// registered secret.
//
// Thread-safety: Do() may be called from many threads at once; each call
// borrows its own easy handle. AddSecret() must happen before concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "stash/core/result.h"

namespace stash::backend {

struct HttpOptions {
  std::string ca_file;        // PEM bundle file to trust; empty: the system's
  std::string ca_pem;         // or the PEM text itself (Stash's CA_CERT_DATA)
  bool insecure_tls = false;  // skip certificate verification (test servers)
  std::chrono::milliseconds connect_timeout{30000};
  // A transfer that moves fewer than low_speed_bytes per second for
  // low_speed_time fails with kTimeout (a stalled, not a slow, connection).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{120};
  std::chrono::milliseconds total_timeout{0};  // 0: no overall limit
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute; must not contain credentials
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::span<const uint8_t>> body;  // sent with Content-Length
  std::string user, password;                    // HTTP basic auth, if any
  std::string what;  // for messages ("data/3f2a…"); defaults to the URL path
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // the body when no sink was given
  std::string Header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  // `location` prefixes every error message ("s3:127.0.0.1:9000/bucket").
  HttpClient(std::string location, HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Never printed; replaced by "[redacted]" if a server echoes it back.
  void AddSecret(const std::string& secret);

  // Performs one request. A 2xx answer is returned (its body in *sink when
  // given, else in HttpResponse::body); anything else becomes an error
  // Status as described above.
  Result<HttpResponse> Do(const HttpRequest& request, std::vector<uint8_t>* sink = nullptr);

  const std::string& location() const { return location_; }
  // Removes secrets from a message (for callers composing their own).
  std::string Scrub(std::string message) const;

 private:
  void* Acquire();
  void Release(void* handle);

  std::string location_;
  HttpOptions options_;
  std::vector<std::string> secrets_;
  std::mutex mu_;
  std::vector<void*> idle_;
  std::atomic<bool> answered_{false};  // some request reached the server
};

// Maps an HTTP status to a Status code and retryable bit (exposed for tests
// and for backends that read error bodies themselves).
Status HttpStatusError(long status, std::string message);

}  // namespace stash::backend
