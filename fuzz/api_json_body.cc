// Fuzz target: a JSON request body, sent as a create, an update and a
// merge patch of a ConfigMap and of a Stash custom resource (schema
// validation, pruning, defaults), so every input reaches the JSON decoder and
// what the server does with the decoded object.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static stash::fuzz::ApiHarness* harness = [] {
    auto* h = new stash::fuzz::ApiHarness();
    h->ResetEvery(500);
    return h;
  }();
  const std::string body(reinterpret_cast<const char*>(data), size);
  struct Call {
    const char* method;
    const char* path;
    const char* content_type;
  };
  static const Call kCalls[] = {
      {"POST", "/api/v1/namespaces/demo/configmaps", "application/json"},
      {"PUT", "/api/v1/namespaces/demo/configmaps/fuzz", "application/json"},
      {"PATCH", "/api/v1/namespaces/demo/configmaps/fuzz", "application/merge-patch+json"},
      {"POST", "/apis/stash.appscode.com/v1beta1/namespaces/demo/backupconfigurations",
       "application/json"},
  };
  for (const Call& call : kCalls) {
    stash::api::HttpRequest req;
    req.method = call.method;
    req.path = call.path;
    req.content_type = call.content_type;
    req.accept = "application/json";
    req.body = body;
    stash::fuzz::CheckResponse(harness->Send(std::move(req)));
  }
  return 0;
}
