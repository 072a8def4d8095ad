// Aggregator: kube-apiserver's aggregation layer in the embedded server. A
// request for a group/version that an APIService (apiregistration.k8s.io/v1)
// registers with spec.service is forwarded, after this server's own
// authentication and authorization, to an address of that Service's
// Endpoints (the Service's port by number, the endpoint's by name): over
// HTTPS as the front proxy (its client certificate, the user in
// X-Remote-User/-Group/-Extra-*, no Authorization header), the backend's
// certificate verified against spec.caBundle for
// <service>.<namespace>.svc unless spec.insecureSkipTLSVerify. A Service or
// endpoint that is missing or does not answer is 503 ServiceUnavailable, as
// kube-apiserver answers. Discovery lists those groups, and aggregated
// discovery carries the resources the backend lists (asked as
// system:kube-aggregator, kept for 30 s; a backend that did not answer is
// asked again after 10 s). Connecting to an endpoint gives up after 5 s.
//
// Thread-safety: all methods are thread-safe; each forwarded request has
// its own connection.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth_types.h"
#include "certs.h"
#include "http_server.h"
#include "stash/core/clock.h"
#include "store.h"

namespace stash::api {

// A group served by APIServices with a Service, for discovery: its
// versions, preferred first, and each version's APIResourceList (null
// when the backend did not answer).
struct AggregatedGroup {
  std::string group;
  std::vector<std::string> versions;
  std::map<std::string, json> resources;
};

// An APIService's Available condition as kube-aggregator's availability
// controller sets it: reason Local or Passed when available, else
// ServiceNotFound, ServicePortError, EndpointsNotFound, MissingEndpoints or
// FailedDiscoveryCheck, with kube's messages.
struct Availability {
  bool available = false;
  std::string reason;
  std::string message;
};

class Aggregator {
 public:
  Aggregator(Store& store, FrontProxyCredentials proxy, Clock& clock);

  // The APIService for group/version when a Service serves it.
  std::optional<json> Find(const std::string& group, const std::string& version) const;
  // Forwards `req` for `user`; the backend's answer, or 503.
  HttpResponse Proxy(const HttpRequest& req, const json& apiservice, const UserInfo& user);
  // Checks the APIService's Service, port and ready endpoints, then asks
  // the backend for its discovery document (/apis/<group>/<version>, as
  // system:kube-aggregator, 5 s at most per step). Blocks on the network.
  Availability Check(const json& apiservice);
  // The backend's OpenAPI v3 document of the APIService's group/version
  // (/openapi/v3/apis/<group>/<version>, asked as system:kube-aggregator);
  // the last good one when the backend does not answer now, else 503 (or
  // the backend's own error).
  HttpResponse OpenApiV3(const json& apiservice);
  // Called with an APIService's name when forwarding to its backend failed,
  // so its Available condition is checked again at once (the availability
  // controller's; empty: none).
  void SetOnUnreachable(std::function<void(const std::string&)> callback);
  // Every group served through a Service. With `with_resources`, each
  // version's APIResourceList too (from the cache or the backend).
  std::vector<AggregatedGroup> Groups(bool with_resources);

 private:
  Store& store_;
  const FrontProxyCredentials proxy_;
  Clock& clock_;
  std::mutex mu_;
  struct Cached {
    json list;
    SystemTime at;
  };
  // "group/version" → its APIResourceList (null: the backend did not answer).
  std::map<std::string, Cached> discovery_;
  // "group/version" → the backend's last good OpenAPI v3 document.
  std::map<std::string, HttpResponse> openapi_;
  std::function<void(const std::string&)> on_unreachable_;
};

}  // namespace stash::api
