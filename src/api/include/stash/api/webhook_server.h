// WebhookServer: validating admission plugins served over HTTPS as a
// Kubernetes admission webhook, for the operator in cluster mode (the
// embedded server calls the same plugins in-process). Each plugin answers
// AdmissionReviews (admission.k8s.io/v1 or v1beta1) POSTed to its path;
// GET /healthz answers "ok". Its serving certificate and CA are given, or
// live in `cert_dir` (created on first start, with the service's DNS name as
// a SAN); ca_pem() is what a ValidatingWebhookConfiguration's caBundle must
// hold.
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stash/api/admission.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/core/status.h"

namespace stash::api {

struct WebhookOptions {
  std::string host = "0.0.0.0";
  int port = 8443;  // 0: any free port
  // The serving certificate, its key and CA (PEM), e.g. from a Secret that
  // every replica of the operator shares; when empty, cert_dir's (created on
  // first start).
  std::string cert_pem, key_pem, ca_pem;
  std::string cert_dir;
  // The name clients reach it by, e.g. "stash-operator.stash.svc".
  std::string service_dns = "localhost";
};

// The certificate of cert_dir (a CA and a serving certificate for `dns`),
// created there on first use: what an operator shares with its replicas.
struct WebhookCertificate {
  std::string cert_pem, key_pem, ca_pem;
};
Result<WebhookCertificate> LoadOrCreateWebhookCertificate(const std::string& cert_dir,
                                                          const std::string& dns, Clock& clock,
                                                          Random& random);

class WebhookServer {
 public:
  using Route = std::pair<std::string, std::shared_ptr<const AdmissionPlugin>>;
  WebhookServer(WebhookOptions options, std::vector<Route> routes, ObjectLookup lookup,
                Clock& clock, Random& random);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  Status Start();
  void Stop();
  int port() const;
  std::string ca_pem() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stash::api
