// Delegated authentication and authorization of an extension API server,
// as k8s.io/apiserver's requestheader, webhook token and webhook authorizer
// do them.
#include "aggregated_auth.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth_types.h"
#include "errors.h"

namespace stash::api {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

HttpResponse Unauthorized() { return StatusResponse(401, "Unauthorized", "Unauthorized"); }

// The user the front proxy names in the request's headers; nullopt when it
// names none.
std::optional<RemoteUser> HeaderUser(const HttpRequest& req, const RequestHeaderAuth& config) {
  RemoteUser user;
  for (const std::string& h : config.username_headers) {
    user.name = req.Header(h);
    if (!user.name.empty()) break;
  }
  if (user.name.empty()) return std::nullopt;
  for (const std::string& h : config.group_headers) {
    const std::string name = Lower(h);
    for (const auto& [k, v] : req.headers) {
      if (k == name && !v.empty()) user.groups.push_back(v);
    }
  }
  for (const std::string& p : config.extra_header_prefixes) {
    const std::string prefix = Lower(p);
    for (const auto& [k, v] : req.headers) {
      if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0) {
        user.extra[UrlDecode(k.substr(prefix.size()), false)].push_back(v);
      }
    }
  }
  return user;
}

}  // namespace

DelegatedAuthn AuthenticateDelegated(const HttpRequest& req, const RequestHeaderAuth& config,
                                     Delegate& delegate) {
  DelegatedAuthn out;
  // The connection's certificate verified against the front proxy's CA
  // (HttpServerOptions::client_ca_pem) when client_cn is set.
  if (!req.client_cn.empty()) {
    if (!config.allowed_names.empty() && !Contains(config.allowed_names, req.client_cn)) {
      spdlog::warn(
          "aggregated API: client certificate CN '{}' is not one of the front proxy's "
          "allowed names; request {} {} refused",
          req.client_cn, req.method, req.path);
      out.response = Unauthorized();
      return out;
    }
    if (auto user = HeaderUser(req, config)) {
      out.user = std::move(*user);
    }
  }
  if (out.user.name.empty()) {
    const std::string prefix = "Bearer ";
    if (req.authorization.size() <= prefix.size() ||
        req.authorization.compare(0, prefix.size(), prefix) != 0) {
      out.response = Unauthorized();
      return out;
    }
    auto user = delegate.ReviewToken(req.authorization.substr(prefix.size()));
    if (!user.ok()) {
      if (user.status().code() != Code::kUnauthorized) {
        spdlog::error("aggregated API: reviewing a bearer token: {}", user.status().ToString());
      }
      out.response = Unauthorized();  // kube answers 401 for either
      return out;
    }
    out.user = std::move(*user);
  }
  if (!Contains(out.user.groups, std::string(kAuthenticated))) {
    out.user.groups.emplace_back(kAuthenticated);
  }
  return out;
}

AccessRequest AccessRequestOf(const HttpRequest& req) {
  Attributes a = RequestAttributes(req);
  AccessRequest r;
  r.verb = a.verb;
  r.resource_request = a.resource_request;
  r.path = a.path;
  r.group = a.api_group;
  r.version = a.api_version;
  r.resource = a.resource;
  r.subresource = a.subresource;
  r.ns = a.ns;
  r.name = a.name;
  return r;
}

std::optional<HttpResponse> AuthorizeDelegated(const HttpRequest& req, const RemoteUser& user,
                                               Delegate& delegate) {
  auto decision = delegate.ReviewAccess(user, AccessRequestOf(req));
  if (!decision.ok()) {
    return StatusResponse(500, "InternalError",
                          "Internal error occurred: reviewing access of user \"" + user.name +
                              "\": " + std::string(decision.status().message()));
  }
  if (decision->allowed) return std::nullopt;
  UserInfo who{user.name, user.uid, user.groups, user.extra};
  return ForbiddenResponse(who, RequestAttributes(req), decision->reason);
}

}  // namespace stash::api
