// The requests Auth answers itself: access and rules reviews, who-am-I,
// token reviews, TokenRequest and the OIDC discovery documents.
#include <spdlog/spdlog.h>

#include <set>

#include "auth.h"
#include "decode.h"
#include "errors.h"
#include "stash/api/protobuf.h"
#include "stash/api/table.h"
#include "stash/core/id.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

constexpr int64_t kMinTokenSeconds = 600;
constexpr int64_t kDefaultTokenSeconds = 3600;
constexpr int64_t kMaxTokenSeconds = int64_t{1} << 32;

Result<json> DecodeBody(const HttpRequest& req) {
  return DecodeObjectBody(req.content_type, req.body);
}

json UserInfoJson(const UserInfo& u) {
  json j = {{"username", u.name}, {"groups", u.groups}};
  if (!u.uid.empty()) j["uid"] = u.uid;
  if (!u.extra.empty()) j["extra"] = u.extra;
  return j;
}

ResourceInfo KindInfo(const std::string& group, const std::string& kind) {
  ResourceInfo r;
  r.group = group;
  r.version = "v1";
  r.kind = kind;
  return r;
}

std::vector<std::string> Strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const json& s : j) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
  }
  return out;
}

// The review's answer: the request's object with server metadata and status.
HttpResponse Answer(json obj, const std::string& api_version, const std::string& kind,
                    json status) {
  obj["apiVersion"] = api_version;
  obj["kind"] = kind;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  obj["metadata"]["creationTimestamp"] = nullptr;
  obj["status"] = std::move(status);
  return JsonResponse(201, obj);
}

}  // namespace

std::optional<HttpResponse> Auth::Serve(const HttpRequest& req, const Outcome& who) {
  const Attributes& a = who.attributes;
  if (!a.resource_request) {
    if (req.method != "GET") return std::nullopt;
    if (req.path == "/.well-known/openid-configuration") {
      return JsonResponse(200, {{"issuer", kIssuer},
                                {"jwks_uri", std::string(kIssuer) + "/openid/v1/jwks"},
                                {"response_types_supported", {"id_token"}},
                                {"subject_types_supported", {"public"}},
                                {"id_token_signing_alg_values_supported", {"RS256"}}});
    }
    if (req.path == "/openid/v1/jwks") {
      HttpResponse r = JsonResponse(200, signer_->Jwks());
      r.content_type = "application/jwk-set+json";
      return r;
    }
    return std::nullopt;
  }
  if (a.api_version != "v1") return std::nullopt;
  const bool authz = a.api_group == "authorization.k8s.io";
  const bool authn = a.api_group == "authentication.k8s.io";
  const bool token = a.api_group.empty() && a.resource == "serviceaccounts" &&
                     a.subresource == "token" && !a.ns.empty() && !a.name.empty();
  static const std::set<std::string> kReviews = {
      "selfsubjectaccessreviews", "subjectaccessreviews", "localsubjectaccessreviews",
      "selfsubjectrulesreviews",  "selfsubjectreviews",   "tokenreviews"};
  if (!token && !((authz || authn) && kReviews.count(a.resource) && a.name.empty())) {
    return std::nullopt;
  }
  if (req.method != "POST") {
    return StatusResponse(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource");
  }
  if (token) return TokenRequest(req, a);
  if (a.resource == "selfsubjectaccessreviews" && authz) {
    return AccessReview(req, who, "SelfSubjectAccessReview");
  }
  if (a.resource == "subjectaccessreviews" && authz) {
    return AccessReview(req, who, "SubjectAccessReview");
  }
  if (a.resource == "localsubjectaccessreviews" && authz && !a.ns.empty()) {
    return AccessReview(req, who, "LocalSubjectAccessReview");
  }
  if (a.resource == "selfsubjectrulesreviews" && authz) return RulesReview(req, who);
  if (a.resource == "selfsubjectreviews" && authn) return SelfSubjectReview(req, who);
  if (a.resource == "tokenreviews" && authn) return TokenReview(req);
  return std::nullopt;
}

HttpResponse Auth::AccessReview(const HttpRequest& req, const Outcome& who,
                                const std::string& kind) {
  auto body = DecodeBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  const json spec = body->value("spec", json::object());
  const json res = spec.value("resourceAttributes", json());
  const json non = spec.value("nonResourceAttributes", json());
  const ResourceInfo info = KindInfo("authorization.k8s.io", kind);
  if (res.is_object() == non.is_object()) {
    std::string msg = res.is_object()
                          ? "cannot be specified in combination with resourceAttributes"
                          : "exactly one of nonResourceAttributes or resourceAttributes must be "
                            "specified";
    std::string field = res.is_object() ? "spec.nonResourceAttributes" : "spec.resourceAttributes";
    std::string body_text = "Invalid value: \"null\": " + msg;
    return InvalidResponse(info, "",
                           {{field, "Invalid value", field + ": " + body_text, body_text}});
  }
  UserInfo subject = who.user;
  if (kind != "SelfSubjectAccessReview") {
    subject.name = spec.value("user", "");
    subject.uid = spec.value("uid", "");
    subject.groups = Strings(spec.value("groups", json()));
    subject.extra.clear();
    if (subject.name.empty() && subject.groups.empty()) {
      std::string b = "Invalid value: \"\": at least one of user or group must be specified";
      return InvalidResponse(info, "", {{"spec.user", "Invalid value", "spec.user: " + b, b}});
    }
  }
  Attributes attrs;
  if (res.is_object()) {
    attrs.resource_request = true;
    attrs.verb = res.value("verb", "");
    attrs.ns = res.value("namespace", "");
    attrs.api_group = res.value("group", "");
    attrs.api_version = res.value("version", "");
    attrs.resource = res.value("resource", "");
    attrs.subresource = res.value("subresource", "");
    attrs.name = res.value("name", "");
    if (kind == "LocalSubjectAccessReview" && attrs.ns != who.attributes.ns) {
      std::string b = "Invalid value: \"" + attrs.ns + "\": must match metadata.namespace";
      return InvalidResponse(info, "",
                             {{"spec.resourceAttributes.namespace", "Invalid value",
                               "spec.resourceAttributes.namespace: " + b, b}});
    }
  } else {
    attrs.verb = non.value("verb", "");
    attrs.path = non.value("path", "");
  }
  Decision d = rbac_.Authorize(subject, attrs);
  json status = {{"allowed", d.allowed}};
  if (!d.reason.empty()) status["reason"] = d.reason;
  return Answer(*body, "authorization.k8s.io/v1", kind, status);
}

HttpResponse Auth::RulesReview(const HttpRequest& req, const Outcome& who) {
  auto body = DecodeBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string ns = body->value("spec", json::object()).value("namespace", "");
  if (ns.empty()) return BadRequestResponse("no namespace on request");
  std::string errors;
  std::vector<CompiledRule> rules = rbac_.RulesFor(who.user, ns, &errors);
  json resource_rules = json::array(), non_resource_rules = json::array();
  for (const CompiledRule& r : rules) {
    if (!r.non_resource_urls.empty()) {
      non_resource_rules.push_back({{"verbs", r.verbs}, {"nonResourceURLs", r.non_resource_urls}});
    }
    if (!r.resources.empty()) {
      json j = {{"verbs", r.verbs}, {"apiGroups", r.api_groups}, {"resources", r.resources}};
      if (!r.resource_names.empty()) j["resourceNames"] = r.resource_names;
      resource_rules.push_back(std::move(j));
    }
  }
  json status = {{"resourceRules", resource_rules},
                 {"nonResourceRules", non_resource_rules},
                 {"incomplete", !errors.empty()}};
  if (!errors.empty()) status["evaluationError"] = errors;
  return Answer(*body, "authorization.k8s.io/v1", "SelfSubjectRulesReview", status);
}

HttpResponse Auth::SelfSubjectReview(const HttpRequest& req, const Outcome& who) {
  auto body = DecodeBody(req);
  json obj = body.ok() ? *body : json::object();
  return Answer(obj, "authentication.k8s.io/v1", "SelfSubjectReview",
                {{"userInfo", UserInfoJson(who.user)}});
}

HttpResponse Auth::TokenReview(const HttpRequest& req) {
  auto body = DecodeBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string token = body->value("spec", json::object()).value("token", "");
  HttpRequest probe;
  probe.method = "GET";
  probe.path = "/api";
  probe.authorization = "Bearer " + token;
  json status = {{"user", json::object()}};
  if (token.empty()) {
    status["authenticated"] = false;
  } else if (auto user = Authenticate(probe); user.ok()) {
    status["authenticated"] = true;
    status["user"] = UserInfoJson(*user);
    status["audiences"] = {kIssuer};
  } else {
    status["authenticated"] = false;
    status["error"] = "[invalid bearer token, " + user.status().message() + "]";
  }
  return Answer(*body, "authentication.k8s.io/v1", "TokenReview", status);
}

HttpResponse Auth::TokenRequest(const HttpRequest& req, const Attributes& a) {
  auto body = DecodeBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  json spec = body->value("spec", json::object());
  if (!spec.is_object()) spec = json::object();
  const ResourceInfo info = KindInfo("authentication.k8s.io", "TokenRequest");
  int64_t seconds = kDefaultTokenSeconds;
  if (spec.contains("expirationSeconds") && spec["expirationSeconds"].is_number_integer() &&
      spec["expirationSeconds"].get<int64_t>() != 0) {
    seconds = spec["expirationSeconds"].get<int64_t>();
  }
  if (seconds < kMinTokenSeconds || seconds > kMaxTokenSeconds) {
    std::string b = seconds < kMinTokenSeconds
                        ? "Invalid value: " + std::to_string(seconds) +
                              ": may not specify a duration less than 10 minutes"
                        : "Invalid value: " + std::to_string(seconds) +
                              ": may not specify a duration larger than 2^32 seconds";
    return InvalidResponse(
        info, a.name,
        {{"spec.expirationSeconds", "Invalid value", "spec.expirationSeconds: " + b, b}});
  }
  std::vector<std::string> audiences = Strings(spec.value("audiences", json()));
  if (audiences.empty()) audiences = {std::string(kIssuer)};
  std::optional<BoundObject> bound;
  const json ref = spec.value("boundObjectRef", json());
  if (ref.is_object()) {
    bound = BoundObject{ref.value("kind", ""), ref.value("name", ""), ref.value("uid", "")};
    const std::string api_version = ref.value("apiVersion", "v1");
    if ((bound->kind != "Pod" && bound->kind != "Secret" && bound->kind != "Node") ||
        (api_version != "v1" && !api_version.empty())) {
      return BadRequestResponse("cannot bind token for serviceaccount \"" + a.name +
                                "\" to object of type " + api_version + ", Kind=" + bound->kind);
    }
    const std::string resource = bound->kind == "Pod"      ? "pods"
                                 : bound->kind == "Secret" ? "secrets"
                                                           : "nodes";
    auto obj = store_.Get("/" + resource, bound->kind == "Node" ? "" : a.ns, bound->name);
    if (!obj) {
      return StatusResponse(404, "NotFound", resource + " \"" + bound->name + "\" not found",
                            {{"name", bound->name}, {"kind", resource}});
    }
    std::string uid = (*obj)["metadata"].value("uid", "");
    if (!bound->uid.empty() && bound->uid != uid) {
      return StatusResponse(
          409, "Conflict",
          "Operation cannot be fulfilled on " + bound->kind + " \"" + bound->name +
              "\": the UID in the bound object reference (" + bound->uid +
              ") does not match the UID in record. The object might have been deleted and then "
              "recreated",
          {{"name", bound->name}, {"kind", bound->kind}});
    }
    bound->uid = uid;
  }
  SystemTime expires;
  auto token = IssueToken(a.ns, a.name, seconds, bound, audiences, &expires);
  if (!token.ok()) {
    if (token.status().code() == Code::kNotFound) {
      return StatusResponse(404, "NotFound", "serviceaccounts \"" + a.name + "\" not found",
                            {{"name", a.name}, {"kind", "serviceaccounts"}});
    }
    return ErrorResponse(token.status());
  }
  spec["audiences"] = audiences;
  spec["expirationSeconds"] = seconds;
  if (!bound) spec["boundObjectRef"] = nullptr;
  json out = *body;
  out["spec"] = spec;
  out["metadata"] = {
      {"name", a.name}, {"namespace", a.ns}, {"creationTimestamp", FormatTimestamp(clock_.Now())}};
  return Answer(out, "authentication.k8s.io/v1", "TokenRequest",
                {{"token", *token}, {"expirationTimestamp", FormatTimestamp(expires)}});
}

Result<std::string> Auth::IssueToken(const std::string& ns, const std::string& name,
                                     int64_t seconds, const std::optional<BoundObject>& bound,
                                     const std::vector<std::string>& audiences,
                                     SystemTime* expires) {
  auto uid = rbac_.ServiceAccountUid(ns, name);
  if (!uid) {
    return NotFoundError("serviceaccounts \"" + name + "\" not found in namespace " + ns);
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  uint8_t u[16];
  random_.Fill(u);
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  std::string hex = HexEncode(u, 16);
  std::string jti = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                    hex.substr(16, 4) + "-" + hex.substr(20);
  json k = {{"namespace", ns}, {"serviceaccount", {{"name", name}, {"uid", *uid}}}};
  if (bound) {
    std::string field = bound->kind == "Pod" ? "pod" : bound->kind == "Secret" ? "secret" : "node";
    k[field] = {{"name", bound->name}, {"uid", bound->uid}};
  }
  json claims = {{"aud", audiences}, {"exp", now + seconds},
                 {"iat", now},       {"iss", kIssuer},
                 {"jti", jti},       {"kubernetes.io", k},
                 {"nbf", now},       {"sub", ServiceAccountUsername(ns, name)}};
  if (expires) *expires = SystemTime(std::chrono::seconds(now + seconds));
  return signer_->Sign(claims);
}

}  // namespace stash::api
