// AggregatedServer: resources computed by ResourceProviders (Stash's
// Snapshots) served over HTTPS as a Kubernetes extension API server, for the
// operator in cluster mode: kube-apiserver's aggregation layer forwards the
// requests for an APIService's group/version here. Discovery (/apis,
// /apis/<group>, /apis/<group>/<version>) and get/list/delete with Tables,
// selectors and Status errors come from the same code as the embedded
// server's provided resources, and so do the OpenAPI v3 documents
// (/openapi/v3, /openapi/v3/apis/<group>/<version>, with each provider's
// schema) that the aggregator merges for `kubectl explain`.
//
// Who may ask is decided as k8s.io/apiserver's delegating authentication and
// authorization do:
// - a client certificate that chains to the front proxy's CA and names an
//   allowed CN (RequestHeaderAuth, from the ConfigMap kube-system/
//   extension-apiserver-authentication) vouches for the user in the
//   username/group/extra headers (X-Remote-User, X-Remote-Group,
//   X-Remote-Extra-*); without that certificate the headers are ignored;
// - otherwise a bearer token, reviewed by the API server (TokenReview);
// - otherwise 401. Every authenticated request is then reviewed by the API
//   server (SubjectAccessReview) and answered 403 with kube's message when
//   denied; /healthz, /livez and /readyz answer anyone.
//
// Thread-safety: Start/Stop from one thread; requests are served
// concurrently and call the Delegate from several threads at once.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stash/api/provider.h"
#include "stash/core/clock.h"
#include "stash/core/result.h"
#include "stash/core/status.h"

namespace stash::api {

// A user as the API server knows it (TokenReview status.user, or the front
// proxy's headers).
struct RemoteUser {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// How requests forwarded by the front proxy are recognised: kube-apiserver's
// --requestheader-* flags as it publishes them.
struct RequestHeaderAuth {
  std::string client_ca_pem;               // requestheader-client-ca-file
  std::vector<std::string> allowed_names;  // empty: any CN the CA signed
  std::vector<std::string> username_headers = {"X-Remote-User"};
  std::vector<std::string> group_headers = {"X-Remote-Group"};
  std::vector<std::string> extra_header_prefixes = {"X-Remote-Extra-"};
};
// From the ConfigMap kube-system/extension-apiserver-authentication (the
// object); InvalidError naming the key when one is malformed, NotFoundError
// when it has no requestheader-client-ca-file.
Result<RequestHeaderAuth> ParseRequestHeaderAuth(const nlohmann::json& configmap);

// What a SubjectAccessReview asks: resourceAttributes, or
// nonResourceAttributes (path, verb) when !resource_request.
struct AccessRequest {
  std::string verb;
  bool resource_request = false;
  std::string path;
  std::string group, version, resource, subresource, ns, name;
};

struct AccessDecision {
  bool allowed = false;
  std::string reason;  // the authorizer's, e.g. why it denied
};

// The API server's decisions an extension server delegates to it.
class Delegate {
 public:
  virtual ~Delegate() = default;
  // The user of a bearer token; kUnauthorized when the API server says the
  // token is not valid, other codes when the review itself failed.
  virtual Result<RemoteUser> ReviewToken(const std::string& token) = 0;
  virtual Result<AccessDecision> ReviewAccess(const RemoteUser& user,
                                              const AccessRequest& request) = 0;
};

struct AggregatedServerOptions {
  std::string host = "0.0.0.0";
  int port = 8444;                // 0: any free port
  std::string cert_pem, key_pem;  // the serving certificate (the APIService's caBundle signs it)
  RequestHeaderAuth request_header;
};

class AggregatedServer {
 public:
  AggregatedServer(AggregatedServerOptions options, Delegate& delegate, Clock& clock);
  ~AggregatedServer();
  AggregatedServer(const AggregatedServer&) = delete;
  AggregatedServer& operator=(const AggregatedServer&) = delete;

  // Before Start.
  void AddProvider(const ProvidedResource& resource, std::shared_ptr<ResourceProvider> provider);
  Status Start();
  void Stop();
  int port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stash::api
