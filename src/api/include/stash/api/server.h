// Server: the embedded Kubernetes-compatible API server (`stash server`).
//
// Serves the Kubernetes REST API over TLS with bearer-token authentication,
// keeps state in SQLite under the data directory (ca.crt, server.crt/key,
// token, state.db, kubeconfig, encryption-config.yaml; every file 0600, the
// directory 0700), with Secrets encrypted at rest and the watch history
// compacted, and installs the project's CRDs at start. It runs the
// controllers a cluster's kube-controller-manager would (garbage collection,
// namespace deletion, volume binding and provisioning; see
// src/api/controllers.h). The operator can run in the same process and talk
// to it over HTTPS.
//
// Thread-safety: Start/Stop from one thread; the accessors are thread-safe
// after Start.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stash/api/admission.h"
#include "stash/api/pod_streams.h"
#include "stash/api/provider.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/status.h"

namespace stash::api {

struct ServerOptions {
  std::string data_dir = "stash-data";
  std::string host = "127.0.0.1";
  int port = 6443;  // 0: any free port
  // Directory of CRD YAML files to install; empty: the ones compiled in.
  std::string crds_dir;
  // Watch history older than one to two intervals is compacted (as
  // kube-apiserver's --etcd-compaction-interval); 0 keeps only the bounds
  // on the history's length.
  std::chrono::seconds compaction_interval{300};
  // kube-apiserver's --encryption-provider-config; empty:
  // <data_dir>/encryption-config.yaml, created with a new key for secrets.
  std::string encryption_config;
  // Open connections at most; 0: from the open-file limit.
  size_t max_connections = 0;
  // Where the default StorageClass's provisioner keeps a directory per
  // PersistentVolumeClaim (<volume_dir>/<namespace>/<claim>), which the
  // embedded node mounts; empty: <data_dir>/node/volumes.
  std::string volume_dir;
  // Validating admission (e.g. the Stash kinds' webhooks, in-process).
  AdmissionPlugins admission;
};

class Server {
 public:
  Server(ServerOptions options, Clock& clock, Random& random);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the store, creates credentials on first start, installs the CRDs,
  // starts listening and writes <data_dir>/kubeconfig (mode 0600).
  Status Start();
  // Closes watches and connections; idempotent.
  void Stop();

  int port() const;
  std::string url() const;  // https://host:port
  std::string kubeconfig_path() const;
  std::string token() const;

  // Serves `resource` (e.g. an aggregated API's) through `provider`; may be
  // called before or after Start.
  void AddProvider(const ProvidedResource& resource, std::shared_ptr<ResourceProvider> provider);
  // The node that answers pods/log and pods/exec (kubectl logs/exec) for
  // the pods it runs; null (the default): such requests are refused. The
  // object must outlive Stop or the next call.
  void SetPodStreams(PodStreams* streams);
  // Stored objects, read without a request, for providers that run in this
  // process (after Start). `group` "" is the core group; `resource` plural.
  std::optional<nlohmann::json> GetStored(const std::string& group, const std::string& resource,
                                          const std::string& ns, const std::string& name) const;
  std::vector<nlohmann::json> ListStored(const std::string& group, const std::string& resource,
                                         const std::string& ns) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stash::api
