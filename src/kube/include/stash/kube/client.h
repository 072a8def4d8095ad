// Client: JSON requests against a Kubernetes API server (a real one or
// `stash server`): get, list, create, update, patch, status subresource,
// delete and streaming watch.
//
// Errors carry Kubernetes' reason as a Code: 404 → kNotFound, 409 →
// kAlreadyExists/kConflict, 422/400 → kInvalid, 401 → kUnauthorized, 410
// (watch too old) → kFailedPrecondition, 5xx/429 and transport failures →
// retryable.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stash/core/result.h"
#include "stash/kube/config.h"

namespace stash::http {
class Client;
}  // namespace stash::http

namespace stash::kube {

using json = nlohmann::json;

// A REST resource: where objects of one kind live.
struct Resource {
  std::string group;  // "" for core
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

namespace res {
extern const Resource kNamespaces, kSecrets, kEvents, kPods, kPersistentVolumeClaims;
extern const Resource kNodes, kPersistentVolumes;
extern const Resource kDeployments, kStatefulSets, kDaemonSets, kCronJobs, kJobs, kLeases;
extern const Resource kRepositories, kBackupConfigurations, kBackupSessions, kRestoreSessions;
}  // namespace res

// The resource of a workload kind named by a BackupConfiguration's target
// (Deployment, StatefulSet, DaemonSet); kUnsupported for others.
Result<Resource> WorkloadResource(std::string_view kind);

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  int timeout_seconds = 0;
};

enum class PatchType { kMerge, kJson, kStrategic };

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  json object;
};

// Splits a byte stream into newline-terminated lines (watch framing).
class LineSplitter {
 public:
  template <typename F>
  void Feed(std::string_view data, F&& on_line) {
    size_t start = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] != '\n') continue;
      buf_.append(data.substr(start, i - start));
      if (!buf_.empty()) on_line(std::string_view(buf_));
      buf_.clear();
      start = i + 1;
    }
    buf_.append(data.substr(start));
  }
  size_t pending() const { return buf_.size(); }

 private:
  std::string buf_;
};

class Client {
 public:
  // Copies share one connection pool.
  explicit Client(KubeConfig cfg);

  const KubeConfig& config() const { return cfg_; }

  Result<json> Get(const Resource& r, std::string_view ns, std::string_view name) const;
  // `ns` empty lists across all namespaces.
  Result<json> List(const Resource& r, std::string_view ns, const ListOptions& opts = {}) const;
  Result<json> Create(const Resource& r, std::string_view ns, const json& obj) const;
  // PUT of the whole object (name and resourceVersion taken from it).
  Result<json> Update(const Resource& r, std::string_view ns, const json& obj) const;
  Result<json> UpdateStatus(const Resource& r, std::string_view ns, const json& obj) const;
  Result<json> Patch(const Resource& r, std::string_view ns, std::string_view name, PatchType type,
                     const json& patch, std::string_view subresource = "") const;
  // `propagation` "" (server default), "Background" or "Foreground".
  Status Delete(const Resource& r, std::string_view ns, std::string_view name,
                std::string_view propagation = "") const;

  // Streams one watch request until the server ends it (OK), `stop` becomes
  // true (kCancelled), or it fails. `on_event` runs on the calling thread.
  // A watch sees `stop` within a second, at once after WakeWatches().
  Status Watch(const Resource& r, std::string_view ns, const ListOptions& opts,
               const std::function<void(const WatchEvent&)>& on_event,
               const std::atomic<bool>* stop) const;
  // Makes every watch of this client (and its copies) look at its stop flag
  // now: set the flag, then call this. Any thread.
  void WakeWatches() const;

  // "/apis/<g>/<v>/namespaces/<ns>/<plural>[/<name>[/<sub>]]".
  static std::string Path(const Resource& r, std::string_view ns, std::string_view name = "",
                          std::string_view subresource = "");

 private:
  Result<json> Do(std::string method, std::string path, const json* body,
                  std::string content_type = "application/json") const;

  KubeConfig cfg_;
  std::shared_ptr<http::Client> http_;
};

// Turns an HTTP error reply (a Kubernetes Status body or not) into a Status.
Status StatusFromHttp(long http_status, std::string_view body, std::string_view what);

}  // namespace stash::kube
