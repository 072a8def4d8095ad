// KubeConfig: where the Kubernetes API server is and how to authenticate to
// it, loaded from a kubeconfig file (as kubectl reads it) or from the
// in-cluster service-account mount.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::kube {

struct KubeConfig {
  std::string server;           // https://host:port (no trailing slash)
  std::string ca_pem;           // empty: system trust store
  std::string token;            // bearer token, may be empty
  std::string client_cert_pem;  // optional client certificate
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  std::string namespace_ = "default";  // the context's namespace
};

// Parses kubeconfig YAML. `context` empty means current-context. `base_dir`
// resolves relative certificate-authority/client-certificate/tokenFile paths.
Result<KubeConfig> ParseKubeconfig(std::string_view yaml, std::string_view context = "",
                                   std::string_view base_dir = ".");
Result<KubeConfig> LoadKubeconfig(const std::string& path, std::string_view context = "");

// In-cluster config: token and ca.crt under `sa_dir`
// (/var/run/secrets/kubernetes.io/serviceaccount) and
// KUBERNETES_SERVICE_HOST/PORT read through `getenv`.
using Getenv = std::function<const char*(const char*)>;
Result<KubeConfig> InClusterConfig(const Getenv& getenv, std::string_view sa_dir);

// kubectl's order: an explicit path, else $KUBECONFIG (first entry), else the
// in-cluster config (the mount's directory can be moved with
// $STASH_SERVICEACCOUNT_DIR), else ~/.kube/config.
Result<KubeConfig> ResolveConfig(const std::string& explicit_path);

}  // namespace stash::kube
