#include "stash/api/webhook_server.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "certs.h"
#include "errors.h"
#include "http_server.h"

namespace stash::api {

struct WebhookServer::Impl {
  WebhookOptions options;
  std::vector<Route> routes;
  ObjectLookup lookup;
  Clock& clock;
  Random& random;
  Credentials creds;
  std::unique_ptr<HttpServer> http;

  HttpResponse Handle(const HttpRequest& req) const {
    if (req.path == "/healthz" && req.method == "GET") {
      HttpResponse r;
      r.content_type = "text/plain";
      r.body = "ok";
      return r;
    }
    for (const auto& [path, plugin] : routes) {
      if (req.path != path) continue;
      if (req.method != "POST") {
        return StatusResponse(405, "MethodNotAllowed", "POST an AdmissionReview to " + path);
      }
      json review = json::parse(req.body, nullptr, false);
      auto request = ParseAdmissionReview(review);
      if (!request.ok()) return BadRequestResponse(request.status().message());
      request->lookup = lookup;
      AdmissionVerdict verdict = AdmissionVerdict::Allow();
      if ((request->operation == "CREATE" || request->operation == "UPDATE") &&
          request->sub_resource.empty() && plugin->Handles(request->group, request->resource)) {
        verdict = plugin->Review(*request);
      }
      if (!verdict.allowed) {
        spdlog::info("admission webhook {}: denied {} {}/{}: {}", plugin->name(),
                     request->operation, request->ns, request->name, verdict.message);
      }
      return JsonResponse(200, AdmissionReviewResponse(review, verdict));
    }
    return PathNotFoundResponse();
  }
};

WebhookServer::WebhookServer(WebhookOptions options, std::vector<Route> routes, ObjectLookup lookup,
                             Clock& clock, Random& random)
    : impl_(new Impl{
          std::move(options), std::move(routes), std::move(lookup), clock, random, {}, nullptr}) {}

WebhookServer::~WebhookServer() { Stop(); }

Status WebhookServer::Start() {
  Impl& s = *impl_;
  if (!s.options.cert_pem.empty()) {
    s.creds.cert_pem = s.options.cert_pem;
    s.creds.key_pem = s.options.key_pem;
    s.creds.ca_pem = s.options.ca_pem;
  } else {
    if (s.options.cert_dir.empty()) {
      return InvalidError("the admission webhook needs a certificate or a cert_dir");
    }
    STASH_ASSIGN_OR_RETURN(
        s.creds, EnsureCredentials(s.options.cert_dir, s.options.service_dns, s.clock, s.random));
  }
  Impl* impl = impl_.get();
  s.http = std::make_unique<HttpServer>(s.creds.cert_pem, s.creds.key_pem,
                                        [impl](const HttpRequest& r) { return impl->Handle(r); });
  STASH_RETURN_IF_ERROR(s.http->Start(s.options.host, s.options.port));
  spdlog::info("admission webhook serving on {}:{}", s.options.host, s.http->port());
  return Status::Ok();
}

void WebhookServer::Stop() {
  if (impl_->http) impl_->http->Stop();
}

Result<WebhookCertificate> LoadOrCreateWebhookCertificate(const std::string& cert_dir,
                                                          const std::string& dns, Clock& clock,
                                                          Random& random) {
  std::error_code ec;
  std::filesystem::create_directories(cert_dir, ec);
  if (ec)
    return InvalidError("creating the certificate directory " + cert_dir + ": " + ec.message());
  STASH_ASSIGN_OR_RETURN(Credentials c, EnsureCredentials(cert_dir, dns, clock, random));
  return WebhookCertificate{c.cert_pem, c.key_pem, c.ca_pem};
}

int WebhookServer::port() const { return impl_->http ? impl_->http->port() : 0; }
std::string WebhookServer::ca_pem() const { return impl_->creds.ca_pem; }

}  // namespace stash::api
