#include "stash/api/aggregated_server.h"

#include <spdlog/spdlog.h>

#include "aggregated_auth.h"
#include "errors.h"
#include "handler.h"
#include "http_server.h"
#include "registry.h"

namespace stash::api {

namespace {

// A ConfigMap value holding a JSON array of strings ("" or absent: empty).
Result<std::vector<std::string>> StringList(const json& data, const std::string& key) {
  std::string text = data.value(key, "");
  if (text.empty()) return std::vector<std::string>{};
  json parsed = json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (parsed.is_array()) {
    for (const json& s : parsed) {
      if (!s.is_string()) {
        out.clear();
        break;
      }
      out.push_back(s.get<std::string>());
    }
    if (out.size() == parsed.size()) return out;
  }
  return InvalidError("ConfigMap kube-system/extension-apiserver-authentication: " + key +
                      " is not a JSON array of strings: " + text);
}

bool HealthPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz";
}

}  // namespace

Result<RequestHeaderAuth> ParseRequestHeaderAuth(const json& configmap) {
  const json data = configmap.value("data", json::object());
  RequestHeaderAuth out;
  out.client_ca_pem = data.value("requestheader-client-ca-file", "");
  if (out.client_ca_pem.empty()) {
    return NotFoundError(
        "ConfigMap kube-system/extension-apiserver-authentication has no "
        "requestheader-client-ca-file: the API server was started without "
        "--requestheader-client-ca-file, so it cannot forward requests to aggregated APIs");
  }
  STASH_ASSIGN_OR_RETURN(out.allowed_names, StringList(data, "requestheader-allowed-names"));
  STASH_ASSIGN_OR_RETURN(out.username_headers, StringList(data, "requestheader-username-headers"));
  STASH_ASSIGN_OR_RETURN(out.group_headers, StringList(data, "requestheader-group-headers"));
  STASH_ASSIGN_OR_RETURN(out.extra_header_prefixes,
                         StringList(data, "requestheader-extra-headers-prefix"));
  return out;
}

struct AggregatedServer::Impl {
  Impl(AggregatedServerOptions o, Delegate& d, Clock& c)
      : options(std::move(o)), delegate(d), clock(c) {}

  AggregatedServerOptions options;
  Delegate& delegate;
  Clock& clock;
  Registry registry{Registry::Empty{}};
  std::unique_ptr<HttpServer> http;

  HttpResponse Handle(const HttpRequest& req) {
    if (req.method == "GET" && HealthPath(req.path)) {
      HttpResponse r;
      r.content_type = "text/plain";
      r.body = "ok";
      return r;
    }
    DelegatedAuthn who = AuthenticateDelegated(req, options.request_header, delegate);
    if (who.response) return *who.response;
    HttpResponse r = Authorized(req, who.user);
    r.authenticated = true;
    return r;
  }

  HttpResponse Authorized(const HttpRequest& req, const RemoteUser& user) {
    if (auto denied = AuthorizeDelegated(req, user, delegate)) return *denied;
    return Route(req);
  }

  HttpResponse Route(const HttpRequest& req) {
    std::vector<std::string> parts = SplitPath(req.path);
    const bool get = req.method == "GET";
    if (get && parts.size() == 2 && parts[0] == "openapi" && parts[1] == "v3") {
      return JsonResponse(200, {{"paths", OpenApiRootPaths(registry)}});
    }
    if (get && parts.size() == 5 && parts[0] == "openapi" && parts[1] == "v3" &&
        parts[2] == "apis") {
      return OpenApiGroupVersion(registry, parts[3], parts[4]);
    }
    if (parts.empty() || parts[0] != "apis") return PathNotFoundResponse();
    if (parts.size() == 1)
      return get ? ApisDiscovery(registry, req, false) : PathNotFoundResponse();
    if (parts.size() == 2) return get ? GroupDiscovery(registry, parts[1]) : PathNotFoundResponse();
    if (parts.size() == 3) {
      return get ? GroupVersionDiscovery(registry, parts[1], parts[2]) : PathNotFoundResponse();
    }
    ResourcePath rp;
    std::vector<std::string> rest(parts.begin() + 3, parts.end());
    if (!SplitResourcePath(rest, &rp) || !rp.sub.empty()) return PathNotFoundResponse();
    auto info = registry.Find(parts[1], parts[2], rp.resource);
    if (!info || !info->provider) return PathNotFoundResponse();
    if (!info->namespaced && !rp.ns.empty()) return PathNotFoundResponse();
    if (info->namespaced && rp.ns.empty() && !rp.name.empty()) return PathNotFoundResponse();
    return ServeProvided(req, *info, rp.ns, rp.name, clock);
  }
};

AggregatedServer::AggregatedServer(AggregatedServerOptions options, Delegate& delegate,
                                   Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), delegate, clock)) {}

AggregatedServer::~AggregatedServer() { Stop(); }

void AggregatedServer::AddProvider(const ProvidedResource& resource,
                                   std::shared_ptr<ResourceProvider> provider) {
  impl_->registry.AddProvided(resource, std::move(provider));
}

Status AggregatedServer::Start() {
  Impl& s = *impl_;
  if (s.options.cert_pem.empty() || s.options.key_pem.empty()) {
    return InvalidError("the aggregated API server needs a serving certificate and key");
  }
  HttpServerOptions http_options;
  http_options.client_ca_pem = s.options.request_header.client_ca_pem;
  Impl* impl = impl_.get();
  s.http = std::make_unique<HttpServer>(
      s.options.cert_pem, s.options.key_pem,
      [impl](const HttpRequest& r) { return impl->Handle(r); }, http_options);
  STASH_RETURN_IF_ERROR(s.http->Start(s.options.host, s.options.port));
  spdlog::info("aggregated API serving on {}:{}", s.options.host, s.http->port());
  return Status::Ok();
}

void AggregatedServer::Stop() {
  if (impl_->http) impl_->http->Stop();
}

int AggregatedServer::port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace stash::api
