// ApiPodSources (kubelet.h).
#include "stash/agent/kubelet.h"
#include "stash/apis/client.h"

namespace stash::agent {

namespace {

const kube::Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};

}  // namespace

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
  auto cm = client_.Get(kConfigMaps, ns, name);
  if (!cm.ok()) return cm.status();
  std::map<std::string, std::string> out;
  for (const char* member : {"data", "binaryData"}) {
    auto it = cm->find(member);
    if (it == cm->end() || !it->is_object()) continue;
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) out[k] = v.get<std::string>();
    }
  }
  return out;
}

Result<std::string> ApiPodSources::ServiceAccountToken(const std::string& ns,
                                                       const std::string& account,
                                                       const std::string& pod_name,
                                                       const std::string& pod_uid) {
  return Token(ns, account, pod_name, pod_uid, 3607);  // kubelet's
}

Result<std::string> ApiPodSources::Token(const std::string& ns, const std::string& account,
                                         const std::string& pod_name, const std::string& pod_uid,
                                         int64_t seconds) {
  // POST serviceaccounts/<name>/token: the subresource as the plural.
  const kube::Resource token{"", "v1", "serviceaccounts/" + account + "/token", "TokenRequest",
                             true};
  kube::json request = {{"apiVersion", "authentication.k8s.io/v1"},
                        {"kind", "TokenRequest"},
                        {"spec", {{"expirationSeconds", seconds}}}};
  if (!pod_uid.empty()) {
    request["spec"]["boundObjectRef"] = {
        {"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod_name}, {"uid", pod_uid}};
  }
  auto made = client_.Create(token, ns, request);
  if (!made.ok()) {
    return Status(made.status().code(), "TokenRequest for ServiceAccount " + ns + "/" + account +
                                            ": " + made.status().message());
  }
  std::string t = made->value("/status/token"_json_pointer, "");
  if (t.empty()) return InternalError("TokenRequest for " + ns + "/" + account + ": no token");
  return t;
}

}  // namespace stash::agent
