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

class Aggregator {
 public:
  Aggregator(Store& store, FrontProxyCredentials proxy, Clock& clock);

  // The APIService for group/version when a Service serves it.
  std::optional<json> Find(const std::string& group, const std::string& version) const;
  // Forwards `req` for `user`; the backend's answer, or 503.
  HttpResponse Proxy(const HttpRequest& req, const json& apiservice, const UserInfo& user);
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
};

}  // namespace stash::api
