// The authentication and authorization decisions of AggregatedServer (see
// stash/api/aggregated_server.h), apart from its transport so that tests
// can put them to every case: who a request is (front proxy certificate +
// headers, or a reviewed bearer token), and whether the API server lets them.
//
// Thread-safety: pure functions; they call the Delegate.
#pragma once

#include <optional>

#include "http_server.h"
#include "stash/api/aggregated_server.h"

namespace stash::api {

struct DelegatedAuthn {
  std::optional<HttpResponse> response;  // 401 (or 500): answer with this
  RemoteUser user;
};
DelegatedAuthn AuthenticateDelegated(const HttpRequest& req, const RequestHeaderAuth& config,
                                     Delegate& delegate);

// The request's attributes as a SubjectAccessReview asks them.
AccessRequest AccessRequestOf(const HttpRequest& req);

// nullopt when the API server allows the request; else 403 with kube's
// message (or 500 when the review failed).
std::optional<HttpResponse> AuthorizeDelegated(const HttpRequest& req, const RemoteUser& user,
                                               Delegate& delegate);

}  // namespace stash::api
