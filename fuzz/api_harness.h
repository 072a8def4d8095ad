// ApiHarness: the embedded API server's request handling without the network,
// for the fuzz targets: an in-memory store, the registry with the project's
// CRDs installed and the namespaces a new server has, and a handler that
// answers HttpRequests exactly as `stash server` does after TLS and HTTP
// parsing.
//
// Thread-safety: one harness per thread (libFuzzer runs one input at a time).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "handler.h"
#include "http_server.h"
#include "registry.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "store.h"

namespace stash::fuzz {

class ApiHarness {
 public:
  ApiHarness();
  ~ApiHarness();

  // Sends `req` (authenticated) to the handler. A streamed answer (a watch)
  // is read until it has nothing more to say right now; the watch ends when
  // the caller drops the response.
  api::HttpResponse Send(api::HttpRequest req);

  // Starts again from a fresh store every `n` requests, so the objects that
  // earlier inputs created do not pile up without bound.
  void ResetEvery(int n);

 private:
  void Reset();

  ManualClock clock_;
  SeededRandom random_{1};
  std::unique_ptr<api::Store> store_;
  std::unique_ptr<api::Registry> registry_;
  std::unique_ptr<api::Auth> auth_;
  std::unique_ptr<api::ApiHandler> handler_;
  int sent_ = 0;
  int reset_every_ = 0;
};

// Splits off the text up to the first '\n' (the whole input when there is
// none) and advances *in past it.
std::string_view TakeLine(std::string_view* in);

// Checks the invariants every answer keeps: a status code in range and, for
// JSON answers, a body that is valid JSON text (what clients parse). Aborts
// otherwise, which libFuzzer reports as a crash.
void CheckResponse(const api::HttpResponse& response);

}  // namespace stash::fuzz
