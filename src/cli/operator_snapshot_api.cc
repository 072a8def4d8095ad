#include "operator_snapshot_api.h"

#include <spdlog/spdlog.h>

#include "commands.h"
#include "restic_options.h"
#include "stash/agent/snapshot_api.h"
#include "stash/core/base64.h"

namespace stash::cli {

namespace {

const kube::Resource kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview",
                                   false};
const kube::Resource kSubjectAccessReviews{"authorization.k8s.io", "v1", "subjectaccessreviews",
                                           "SubjectAccessReview", false};
const kube::Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const kube::Resource kApiServices{"apiregistration.k8s.io", "v1", "apiservices", "APIService",
                                  false};

std::vector<std::string> Strings(const kube::json& arr) {
  std::vector<std::string> out;
  if (!arr.is_array()) return out;
  for (const kube::json& s : arr) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

// Puts the serving certificate's CA into the APIService, so the aggregator
// trusts this server (as the webhook's caBundle).
void PatchCaBundle(const kube::Client& client, const std::string& apiservice,
                   const std::string& ca_pem) {
  auto patched = client.Patch(kApiServices, "", apiservice, kube::PatchType::kMerge,
                              {{"spec", {{"caBundle", Base64Encode(ca_pem)}}}});
  if (!patched.ok()) {
    spdlog::warn(
        "aggregated API: APIService {}: {} (its caBundle is not set; apply "
        "deploy/aggregated-api.yaml)",
        apiservice, patched.status().ToString());
  }
}

}  // namespace

Result<api::RemoteUser> KubeDelegate::ReviewToken(const std::string& token) {
  kube::json review = {{"apiVersion", "authentication.k8s.io/v1"},
                       {"kind", "TokenReview"},
                       {"spec", {{"token", token}}}};
  STASH_ASSIGN_OR_RETURN(kube::json out, client_.Create(kTokenReviews, "", review));
  const kube::json status = out.value("status", kube::json::object());
  if (!status.value("authenticated", false)) {
    return UnauthorizedError("token not valid: " + status.value("error", std::string("rejected")));
  }
  const kube::json user = status.value("user", kube::json::object());
  api::RemoteUser u;
  u.name = user.value("username", "");
  u.uid = user.value("uid", "");
  u.groups = Strings(user.value("groups", kube::json::array()));
  const kube::json extra = user.value("extra", kube::json::object());
  for (const auto& [k, v] : extra.items()) {
    u.extra[k] = Strings(v);
  }
  if (u.name.empty()) return UnauthorizedError("TokenReview named no user");
  return u;
}

Result<api::AccessDecision> KubeDelegate::ReviewAccess(const api::RemoteUser& user,
                                                       const api::AccessRequest& r) {
  kube::json spec = {{"user", user.name}, {"groups", user.groups}};
  if (!user.uid.empty()) spec["uid"] = user.uid;
  if (!user.extra.empty()) spec["extra"] = user.extra;
  if (r.resource_request) {
    spec["resourceAttributes"] = {{"namespace", r.ns},      {"verb", r.verb},
                                  {"group", r.group},       {"version", r.version},
                                  {"resource", r.resource}, {"subresource", r.subresource},
                                  {"name", r.name}};
  } else {
    spec["nonResourceAttributes"] = {{"path", r.path}, {"verb", r.verb}};
  }
  kube::json review = {
      {"apiVersion", "authorization.k8s.io/v1"}, {"kind", "SubjectAccessReview"}, {"spec", spec}};
  STASH_ASSIGN_OR_RETURN(kube::json out, client_.Create(kSubjectAccessReviews, "", review));
  const kube::json status = out.value("status", kube::json::object());
  api::AccessDecision d;
  d.allowed = status.value("allowed", false) && !status.value("denied", false);
  d.reason = status.value("reason", "");
  return d;
}

Result<std::unique_ptr<OperatorSnapshotApi>> OperatorSnapshotApi::Start(
    const std::string& listen, const std::string& apiservice, const kube::Client& client,
    const api::WebhookCertificate& cert, Clock& clock, Random& random) {
  api::AggregatedServerOptions o;
  if (!SplitListen(listen, &o.host, &o.port)) {
    return InvalidError("--snapshot-api-listen must be HOST:PORT, e.g. 0.0.0.0:8444 (got '" +
                        listen + "')");
  }
  o.cert_pem = cert.cert_pem;
  o.key_pem = cert.key_pem;
  auto config = client.Get(kConfigMaps, "kube-system", "extension-apiserver-authentication");
  if (!config.ok()) {
    return Status(config.status().code(),
                  "--snapshot-api-listen: reading ConfigMap kube-system/"
                  "extension-apiserver-authentication (the front proxy's CA): " +
                      std::string(config.status().message()) +
                      " (the operator needs the RoleBinding to "
                      "extension-apiserver-authentication-reader of deploy/aggregated-api.yaml)");
  }
  STASH_ASSIGN_OR_RETURN(o.request_header, api::ParseRequestHeaderAuth(*config));
  std::unique_ptr<OperatorSnapshotApi> api(new OperatorSnapshotApi(client));
  api->server_ = std::make_unique<api::AggregatedServer>(o, api->delegate_, clock);
  api->server_->AddProvider(
      agent::SnapshotApi::Definition(),
      std::make_shared<agent::SnapshotApi>(agent::ObjectSource::FromClient(client), clock, random,
                                           agent::SnapshotApiOptions{"", ProcessEnvironment()}));
  STASH_RETURN_IF_ERROR(api->server_->Start());
  if (!apiservice.empty()) PatchCaBundle(client, apiservice, cert.ca_pem);
  return api;
}

OperatorSnapshotApi::~OperatorSnapshotApi() {
  if (server_) server_->Stop();
}

}  // namespace stash::cli
