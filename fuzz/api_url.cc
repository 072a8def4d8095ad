// Fuzz target: a request target ("/path?query") as a client sends it: split
// and percent-decoded as the server does, then served as a GET (discovery,
// get, list with label/field selectors, paging and Table options, watch).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static stash::fuzz::ApiHarness* harness = new stash::fuzz::ApiHarness();
  std::string_view target(reinterpret_cast<const char*>(data), size);
  (void)stash::api::UrlDecode(target, true);
  stash::api::HttpRequest req;
  req.method = "GET";
  stash::api::ParseRequestTarget(target, &req);
  req.accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  stash::fuzz::CheckResponse(harness->Send(std::move(req)));
  return 0;
}
