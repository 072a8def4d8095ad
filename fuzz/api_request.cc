// Fuzz target: one request to the API server, after TLS and HTTP parsing.
//   line 1: METHOD TARGET      (e.g. "PATCH /api/v1/namespaces/demo/configmaps/a?dryRun=All")
//   line 2: Content-Type       (JSON, YAML, protobuf, a patch type, or anything)
//   rest:   the body
// Paths and query strings (selectors, watch, paging), every body decoder and
// the handlers behind them run as for a client's bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static stash::fuzz::ApiHarness* harness = [] {
    auto* h = new stash::fuzz::ApiHarness();
    h->ResetEvery(2000);
    return h;
  }();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view request_line = stash::fuzz::TakeLine(&in);
  size_t space = request_line.find(' ');
  if (space == std::string_view::npos) return 0;
  stash::api::HttpRequest req;
  req.method = std::string(request_line.substr(0, space));
  stash::api::ParseRequestTarget(request_line.substr(space + 1), &req);
  req.content_type = std::string(stash::fuzz::TakeLine(&in));
  req.accept = "application/json";
  req.body = std::string(in);
  stash::fuzz::CheckResponse(harness->Send(std::move(req)));
  return 0;
}
