#include "stash/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "stash/core/base64.h"
#include "util.h"

namespace stash::kube {

namespace {

std::string Str(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>();
}

// Finds the entry named `name` in a kubeconfig list (clusters/users/contexts)
// and returns its payload (the `cluster`/`user`/`context` map).
YAML::Node FindNamed(const YAML::Node& list, const std::string& name, const char* payload) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (Str(item, "name") == name) return item[payload];
  }
  return YAML::Node();
}

std::string ResolvePath(std::string_view base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return (std::filesystem::path(base_dir) / p).string();
}

// Reads `<key>-data` (base64) or `<key>` (a file path).
Result<std::string> DataOrFile(const YAML::Node& n, const std::string& key,
                               std::string_view base_dir) {
  std::string data = Str(n, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded.ok()) return Status(decoded.status()).Prepend(key + "-data");
    return decoded;
  }
  std::string path = Str(n, key.c_str());
  if (path.empty()) return std::string();
  return ReadWholeFile(ResolvePath(base_dir, path));
}

Result<KubeConfig> ParseNode(const YAML::Node& root, std::string_view context_arg,
                             std::string_view base_dir) {
  if (!root || !root.IsMap()) return InvalidError("kubeconfig is not a YAML mapping");
  std::string ctx_name =
      context_arg.empty() ? Str(root, "current-context") : std::string(context_arg);
  if (ctx_name.empty()) {
    return InvalidError("kubeconfig has no current-context; pass a context or set current-context");
  }
  YAML::Node ctx = FindNamed(root["contexts"], ctx_name, "context");
  if (!ctx || !ctx.IsMap())
    return NotFoundError("kubeconfig has no context named \"" + ctx_name + "\"");
  std::string cluster_name = Str(ctx, "cluster");
  YAML::Node cluster = FindNamed(root["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster.IsMap()) {
    return NotFoundError("kubeconfig context \"" + ctx_name + "\" names cluster \"" + cluster_name +
                         "\", which is not defined");
  }
  KubeConfig cfg;
  cfg.server = Str(cluster, "server");
  while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
  if (cfg.server.empty()) {
    return InvalidError("kubeconfig cluster \"" + cluster_name + "\" has no server");
  }
  cfg.insecure_skip_tls_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  STASH_ASSIGN_OR_RETURN(cfg.ca_pem, DataOrFile(cluster, "certificate-authority", base_dir));
  std::string user_name = Str(ctx, "user");
  YAML::Node user = FindNamed(root["users"], user_name, "user");
  if (user && user.IsMap()) {
    cfg.token = Str(user, "token");
    std::string token_file = Str(user, "tokenFile");
    if (cfg.token.empty() && !token_file.empty()) {
      STASH_ASSIGN_OR_RETURN(cfg.token, ReadWholeFile(ResolvePath(base_dir, token_file)));
      while (!cfg.token.empty() && isspace(uint8_t(cfg.token.back()))) cfg.token.pop_back();
    }
    STASH_ASSIGN_OR_RETURN(cfg.client_cert_pem, DataOrFile(user, "client-certificate", base_dir));
    STASH_ASSIGN_OR_RETURN(cfg.client_key_pem, DataOrFile(user, "client-key", base_dir));
  }
  std::string ns = Str(ctx, "namespace");
  if (!ns.empty()) cfg.namespace_ = ns;
  return cfg;
}

}  // namespace

Result<KubeConfig> ParseKubeconfig(std::string_view yaml, std::string_view context,
                                   std::string_view base_dir) {
  try {
    return ParseNode(YAML::Load(std::string(yaml)), context, base_dir);
  } catch (const YAML::Exception& e) {
    return InvalidError(std::string("kubeconfig is not valid YAML: ") + e.what());
  }
}

Result<KubeConfig> LoadKubeconfig(const std::string& path, std::string_view context) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return Status(text.status()).Prepend("loading kubeconfig (check --kubeconfig/KUBECONFIG)");
  }
  auto cfg = ParseKubeconfig(*text, context, std::filesystem::path(path).parent_path().string());
  if (!cfg.ok()) return Status(cfg.status()).Prepend("kubeconfig " + path);
  return cfg;
}

Result<KubeConfig> InClusterConfig(const Getenv& getenv, std::string_view sa_dir) {
  const char* host = getenv("KUBERNETES_SERVICE_HOST");
  const char* port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return NotFoundError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set; "
        "pass --kubeconfig");
  }
  KubeConfig cfg;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  cfg.server = "https://" + h + ":" + port;
  std::string dir(sa_dir);
  STASH_ASSIGN_OR_RETURN(cfg.token, ReadWholeFile(dir + "/token"));
  while (!cfg.token.empty() && isspace(uint8_t(cfg.token.back()))) cfg.token.pop_back();
  STASH_ASSIGN_OR_RETURN(cfg.ca_pem, ReadWholeFile(dir + "/ca.crt"));
  if (auto ns = ReadWholeFile(dir + "/namespace"); ns.ok() && !ns->empty()) {
    cfg.namespace_ = *ns;
    while (!cfg.namespace_.empty() && isspace(uint8_t(cfg.namespace_.back()))) {
      cfg.namespace_.pop_back();
    }
  }
  return cfg;
}

Result<KubeConfig> ResolveConfig(const std::string& explicit_path) {
  if (!explicit_path.empty()) return LoadKubeconfig(explicit_path);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first);
  }
  // STASH_SERVICEACCOUNT_DIR moves the mount (a process outside a container).
  const char* sa_dir = std::getenv("STASH_SERVICEACCOUNT_DIR");
  auto in_cluster =
      InClusterConfig([](const char* k) { return std::getenv(k); },
                      sa_dir && *sa_dir ? sa_dir : "/var/run/secrets/kubernetes.io/serviceaccount");
  if (in_cluster.ok() || in_cluster.status().code() != Code::kNotFound) return in_cluster;
  if (const char* home = std::getenv("HOME"); home && *home) {
    std::string path = std::string(home) + "/.kube/config";
    if (std::filesystem::exists(path)) return LoadKubeconfig(path);
  }
  return NotFoundError(
      "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a cluster");
}

}  // namespace stash::kube
