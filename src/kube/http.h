// Private to kube: one HTTP exchange with the API server over libcurl.
//
// Thread-safety: Perform may be called from any number of threads at once;
// each call uses its own easy handle.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "stash/core/result.h"
#include "stash/kube/config.h"

namespace stash::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // starting with '/', query included
  std::string body;
  std::string content_type = "application/json";
  // When set, the body is delivered here as it arrives (watch streams) instead
  // of being collected; returning false aborts the transfer.
  std::function<bool(std::string_view)> sink;
  long timeout_seconds = 30;  // whole-transfer limit; 0 = none (watch)
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// Transport failures come back as kUnavailable (retryable); HTTP error
// statuses come back as a response, for the caller to map.
Result<HttpResponse> Perform(const KubeConfig& cfg, const HttpRequest& req);

}  // namespace stash::kube
