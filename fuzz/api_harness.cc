#include "api_harness.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "yaml_json.h"

namespace stash::api {
std::vector<std::string_view> EmbeddedCrds();  // generated from deploy/crds
}  // namespace stash::api

namespace stash::fuzz {

namespace {

constexpr char kToken[] = "fuzz-token";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "api harness: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::string_view TakeLine(std::string_view* in) {
  size_t nl = in->find('\n');
  std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

void CheckResponse(const api::HttpResponse& response) {
  if (response.status < 100 || response.status > 599) {
    Fail("status code " + std::to_string(response.status));
  }
  if (response.content_type == "application/json" && !response.stream &&
      !nlohmann::json::accept(response.body)) {
    Fail("a JSON answer that is not JSON: " + response.body.substr(0, 200));
  }
}

ApiHarness::ApiHarness() {
  spdlog::set_level(spdlog::level::off);
  Reset();
}

ApiHarness::~ApiHarness() = default;

void ApiHarness::ResetEvery(int n) { reset_every_ = n; }

void ApiHarness::Reset() {
  sent_ = 0;  // before the namespaces below are sent, which count too
  handler_.reset();
  auth_.reset();
  store_.reset();
  auto store = api::Store::Open(":memory:");
  if (!store.ok()) Fail("opening the store: " + store.status().message());
  store_ = std::move(*store);
  registry_ = std::make_unique<api::Registry>();
  // The ServiceAccount key is made once per process and loaded on each reset.
  static const std::string key_path = "/tmp/stash-fuzz-sa-" + std::to_string(::getpid()) + ".key";
  auto signer = api::TokenSigner::LoadOrCreate(key_path);
  if (!signer.ok()) Fail("the ServiceAccount key: " + signer.status().message());
  auth_ = std::make_unique<api::Auth>(*store_, clock_, random_, std::move(*signer), kToken);
  handler_ = std::make_unique<api::ApiHandler>(*store_, *registry_, clock_, random_, *auth_);
  std::vector<nlohmann::json> crds;
  for (std::string_view text : api::EmbeddedCrds()) {
    auto docs = api::YamlToJson(text);
    if (!docs.ok()) Fail("an embedded CRD: " + docs.status().message());
    for (auto& d : *docs) crds.push_back(std::move(d));
  }
  if (Status s = handler_->InstallCrds(crds); !s.ok()) Fail("installing CRDs: " + s.message());
  for (const char* ns : {"default", "demo"}) {
    api::HttpRequest req;
    req.method = "POST";
    req.path = "/api/v1/namespaces";
    req.content_type = "application/json";
    req.body =
        nlohmann::json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}
            .dump();
    api::HttpResponse r = Send(std::move(req));
    if (r.status != 201) Fail("creating namespace " + std::string(ns) + ": " + r.body);
  }
}

api::HttpResponse ApiHarness::Send(api::HttpRequest req) {
  if (reset_every_ > 0 && ++sent_ > reset_every_) Reset();
  req.authorization = std::string("Bearer ") + kToken;
  api::HttpResponse response = handler_->Handle(req);
  if (response.stream) {
    std::string chunk;
    for (int i = 0; i < 100 && response.stream->Next(&chunk, std::chrono::steady_clock::now());
         ++i) {
      if (chunk.size() > (1 << 20)) break;
    }
  }
  return response;
}

}  // namespace stash::fuzz
