// ApiPodSources (kubelet.h).
#include "stash/agent/kubelet.h"
#include "stash/apis/authentication.h"
#include "stash/apis/client.h"

namespace stash::agent {

Result<std::map<std::string, std::string>> ApiPodSources::SecretData(const std::string& ns,
                                                                     const std::string& name) {
  auto secret = apis::Get<apis::Secret>(client_, ns, name);
  if (!secret.ok()) return secret.status();
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : secret->data) out[k] = std::string(v.begin(), v.end());
  for (const auto& [k, v] : secret->string_data) out[k] = v;
  return out;
}

Result<std::map<std::string, std::string>> ApiPodSources::ConfigMapData(const std::string& ns,
                                                                        const std::string& name) {
  auto cm = apis::Get<apis::ConfigMap>(client_, ns, name);
  if (!cm.ok()) return cm.status();
  std::map<std::string, std::string> out(cm->data.begin(), cm->data.end());
  for (const auto& [k, v] : cm->binary_data) out.insert_or_assign(k, std::string(v));
  return out;
}

Result<std::string> ApiPodSources::ServiceAccountToken(const std::string& ns,
                                                       const std::string& account,
                                                       const std::string& pod_name,
                                                       const std::string& pod_uid) {
  // kubelet asks for 3607 s, and kube-apiserver (--service-account-extend-
  // token-expiration, on by default) makes such a pod-bound token last a
  // year, so that clients reading their token once keep working: stash's
  // own sidecar in a container is one (and its processes get a year too,
  // NodeRuntime::EnsureToken). The token still dies with its pod.
  return Token(ns, account, pod_name, pod_uid, pod_uid.empty() ? 3607 : int64_t{365} * 24 * 3600);
}

Result<std::string> ApiPodSources::Token(const std::string& ns, const std::string& account,
                                         const std::string& pod_name, const std::string& pod_uid,
                                         int64_t seconds) {
  // POST serviceaccounts/<name>/token: the subresource as the plural.
  const kube::Resource token{"", "v1", "serviceaccounts/" + account + "/token", "TokenRequest",
                             true};
  apis::TokenRequest request;
  request.spec.expiration_seconds = seconds;
  if (!pod_uid.empty()) {
    apis::BoundObjectReference& pod = request.spec.bound_object_ref.emplace();
    pod.api_version = "v1";
    pod.kind = "Pod";
    pod.name = pod_name;
    pod.uid = pod_uid;
  }
  const std::string what = "TokenRequest for ServiceAccount " + ns + "/" + account;
  auto made = client_.Create(token, ns, apis::ToJson(request));
  if (!made.ok()) return Status(made.status().code(), what + ": " + made.status().message());
  auto answer = apis::FromJson<apis::TokenRequest>(*made);
  if (!answer.ok()) return Status(answer.status()).Prepend(what);
  if (answer->status.token.empty()) return InternalError(what + ": no token");
  return answer->status.token;
}

}  // namespace stash::agent
