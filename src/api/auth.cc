// Authentication, impersonation and the authorization check of every request.
#include "auth.h"

#include <spdlog/spdlog.h>

#include "errors.h"
#include "stash/core/strings.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool AnonymousPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" ||
         path == "/version/";
}

HttpResponse Unauthorized() { return StatusResponse(401, "Unauthorized", "Unauthorized"); }

// kube's Impersonate-Extra-<key> is percent-encoded.
std::string UnescapeExtraKey(const std::string& key) { return UrlDecode(key, false); }

}  // namespace

// kube-apiserver's responsewriters.Forbidden + errors.NewForbidden.
HttpResponse ForbiddenResponse(const UserInfo& user, const Attributes& a,
                               const std::string& reason) {
  std::string msg;
  if (!a.resource_request) {
    msg = "User \"" + user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  } else {
    std::string resource = a.resource;
    if (!a.subresource.empty()) resource += "/" + a.subresource;
    msg = "User \"" + user.name + "\" cannot " + a.verb + " resource \"" + resource +
          "\" in API group \"" + a.api_group + "\"" +
          (a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"");
  }
  if (!reason.empty()) msg += ": " + reason;
  json details = json::object();
  std::string full;
  if (!a.resource_request || a.resource.empty()) {
    full = "forbidden: " + msg;
  } else {
    std::string qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
    full = a.name.empty() ? qualified + " is forbidden: " + msg
                          : qualified + " \"" + a.name + "\" is forbidden: " + msg;
    if (!a.name.empty()) details["name"] = a.name;
    if (!a.api_group.empty()) details["group"] = a.api_group;
    details["kind"] = a.resource;
  }
  return StatusResponse(403, "Forbidden", full, details);
}

Auth::Auth(Store& store, Clock& clock, Random& random, std::unique_ptr<TokenSigner> signer,
           std::string admin_token)
    : store_(store),
      clock_(clock),
      random_(random),
      signer_(std::move(signer)),
      admin_token_(std::move(admin_token)) {}

Auth::~Auth() { Stop(); }

Result<UserInfo> Auth::Authenticate(const HttpRequest& req) const {
  const std::string prefix = "Bearer ";
  if (req.authorization.empty()) {
    if (AnonymousPath(req.path)) {
      return UserInfo{std::string(kAnonymousUser), "", {std::string(kUnauthenticated)}, {}};
    }
    return UnauthorizedError("no credentials");
  }
  if (req.authorization.size() <= prefix.size() ||
      AsciiLower(req.authorization.substr(0, prefix.size())) != "bearer ") {
    return UnauthorizedError("not a bearer token");
  }
  std::string token = req.authorization.substr(prefix.size());
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  if (ConstantTimeEquals(token, admin_token_)) {
    return UserInfo{std::string(kAdminUser),
                    "",
                    {std::string(kSystemMasters), std::string(kAuthenticated)},
                    {}};
  }
  std::vector<std::string> audiences;
  return AuthenticateServiceAccount(token, &audiences);
}

Result<UserInfo> Auth::AuthenticateServiceAccount(const std::string& token,
                                                  std::vector<std::string>* audiences) const {
  std::shared_ptr<const json> claims;
  {
    std::lock_guard lock(cache_mu_);
    auto it = claims_cache_.find(token);
    if (it != claims_cache_.end()) claims = it->second;
  }
  if (!claims) {
    STASH_ASSIGN_OR_RETURN(json verified, signer_->Verify(token));
    claims = std::make_shared<const json>(std::move(verified));
    std::lock_guard lock(cache_mu_);
    if (claims_cache_.size() >= 8192) claims_cache_.clear();
    claims_cache_[token] = claims;
  }
  const json& c = *claims;
  if (c.value("iss", "") != kIssuer) return UnauthorizedError("token issuer is not this server");
  // Expiry and not-before with go-jose's default leeway of one minute.
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  const json& exp = c.value("exp", json());
  if (!exp.is_number_integer()) return UnauthorizedError("token has no expiry");
  if (now > exp.get<int64_t>() + 60) return UnauthorizedError("token has expired");
  if (c.contains("nbf") && c["nbf"].is_number_integer() && now < c["nbf"].get<int64_t>() - 60) {
    return UnauthorizedError("token is not valid yet");
  }
  bool audience_ok = false;
  const json& aud = c.value("aud", json());
  for (const json& a : aud.is_array() ? aud : json::array({aud})) {
    if (!a.is_string()) continue;
    audiences->push_back(a.get<std::string>());
    if (a == kIssuer) audience_ok = true;
  }
  if (!audience_ok) return UnauthorizedError("token audience is not this API server");
  const json& k = c.value("kubernetes.io", json::object());
  const std::string ns = k.value("namespace", "");
  const json& sa = k.value("serviceaccount", json::object());
  const std::string name = sa.value("name", ""), uid = sa.value("uid", "");
  auto current = rbac_.ServiceAccountUid(ns, name);
  if (!current)
    return UnauthorizedError("service account " + ns + "/" + name + " has been deleted");
  if (*current != uid) {
    return UnauthorizedError("service account UID (" + *current + ") does not match claim (" + uid +
                             ")");
  }
  UserInfo user{ServiceAccountUsername(ns, name), uid, ServiceAccountGroups(ns), {}};
  user.groups.push_back(std::string(kAuthenticated));
  for (const auto& [kind, resource] :
       {std::pair{"Pod", "/pods"}, {"Secret", "/secrets"}, {"Node", "/nodes"}}) {
    std::string field = AsciiLower(kind);
    if (!k.contains(field) || !k[field].is_object()) continue;
    const std::string bname = k[field].value("name", ""), buid = k[field].value("uid", "");
    auto obj = store_.Get(resource, kind == std::string("Node") ? "" : ns, bname);
    if (!obj) return UnauthorizedError(field + " " + ns + "/" + bname + " has been deleted");
    const json& meta = (*obj)["metadata"];
    if (meta.value("uid", "") != buid) {
      return UnauthorizedError(field + " " + ns + "/" + bname + " UID does not match the claim");
    }
    if (meta.contains("deletionTimestamp")) {
      return UnauthorizedError(field + " " + ns + "/" + bname + " is being deleted");
    }
    if (field == "pod") {
      user.extra["authentication.kubernetes.io/pod-name"] = {bname};
      user.extra["authentication.kubernetes.io/pod-uid"] = {buid};
    } else if (field == "node") {
      user.extra["authentication.kubernetes.io/node-name"] = {bname};
      user.extra["authentication.kubernetes.io/node-uid"] = {buid};
    }
  }
  if (c.contains("jti") && c["jti"].is_string()) {
    user.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" +
                                                                c["jti"].get<std::string>()};
  }
  return user;
}

std::optional<HttpResponse> Auth::Impersonate(const HttpRequest& req, UserInfo* user) const {
  std::string imp_user, imp_uid;
  std::vector<std::string> imp_groups;
  std::map<std::string, std::vector<std::string>> imp_extra;
  bool any = false;
  for (const auto& [name, value] : req.impersonation) {
    std::string n = AsciiLower(name);
    any = true;
    if (n == "impersonate-user") {
      imp_user = value;
    } else if (n == "impersonate-group") {
      imp_groups.push_back(value);
    } else if (n == "impersonate-uid") {
      imp_uid = value;
    } else if (n.rfind("impersonate-extra-", 0) == 0) {
      imp_extra[UnescapeExtraKey(n.substr(18))].push_back(value);
    }
  }
  if (!any) return std::nullopt;
  if (imp_user.empty()) {
    return StatusResponse(500, "InternalError",
                          "Internal error occurred: requested [" +
                              std::string(imp_groups.empty() ? "" : "group") +
                              "] without impersonating a user");
  }
  // Each impersonated attribute needs the `impersonate` verb on it.
  auto allowed = [&](Attributes a) -> std::optional<HttpResponse> {
    a.verb = "impersonate";
    a.resource_request = true;
    if (a.api_group.empty() && a.resource != "serviceaccounts" && a.resource != "users" &&
        a.resource != "groups") {
      a.api_group = "authentication.k8s.io";
    }
    Decision d = rbac_.Authorize(*user, a);
    if (d.allowed) return std::nullopt;
    return ForbiddenResponse(*user, a, d.reason);
  };
  UserInfo next;
  std::string sa_ns, sa_name;
  if (SplitServiceAccountUsername(imp_user, &sa_ns, &sa_name)) {
    Attributes a;
    a.resource = "serviceaccounts";
    a.ns = sa_ns;
    a.name = sa_name;
    if (auto r = allowed(a)) return r;
    next.name = imp_user;
    if (imp_groups.empty()) next.groups = ServiceAccountGroups(sa_ns);
  } else {
    Attributes a;
    a.resource = "users";
    a.name = imp_user;
    if (auto r = allowed(a)) return r;
    next.name = imp_user;
  }
  for (const std::string& g : imp_groups) {
    Attributes a;
    a.resource = "groups";
    a.name = g;
    if (auto r = allowed(a)) return r;
    next.groups.push_back(g);
  }
  if (!imp_uid.empty()) {
    Attributes a;
    a.api_group = "authentication.k8s.io";
    a.resource = "uids";
    a.name = imp_uid;
    if (auto r = allowed(a)) return r;
    next.uid = imp_uid;
  }
  for (const auto& [key, values] : imp_extra) {
    for (const std::string& v : values) {
      Attributes a;
      a.api_group = "authentication.k8s.io";
      a.resource = "userextras";
      a.subresource = key;
      a.name = v;
      if (auto r = allowed(a)) return r;
    }
    next.extra[key] = values;
  }
  if (next.name == kAnonymousUser) {
    if (!next.InGroup(kUnauthenticated)) next.groups.push_back(std::string(kUnauthenticated));
  } else if (!next.InGroup(kAuthenticated)) {
    next.groups.push_back(std::string(kAuthenticated));
  }
  *user = std::move(next);
  return std::nullopt;
}

Auth::Outcome Auth::Check(const HttpRequest& req) const {
  Outcome out;
  auto user = Authenticate(req);
  if (!user.ok()) {
    spdlog::debug("API request {} {} unauthorized: {}", req.method, req.path,
                  user.status().message());
    out.response = Unauthorized();
    return out;
  }
  out.user = std::move(*user);
  if (auto r = Impersonate(req, &out.user)) {
    out.response = std::move(r);
    return out;
  }
  out.attributes = RequestAttributes(req);
  Decision d = rbac_.Authorize(out.user, out.attributes);
  if (!d.allowed) {
    out.response = ForbiddenResponse(out.user, out.attributes, d.reason);
  } else if (auto r = PreventEscalation(req, out)) {
    out.response = std::move(r);
  }
  return out;
}

}  // namespace stash::api
