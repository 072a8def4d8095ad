// SnapshotApi: Stash's aggregated resource `repositories.stash.appscode.com/
// v1alpha1` Snapshot (stash-api.md §1.9), a view of each Repository's restic
// snapshots as Kubernetes objects:
//   kubectl get snapshots -n demo [-l repository=gcs-repo,hostname=host-0]
//   kubectl get snapshot gcs-repo-1a2b3c4d -o yaml
//   kubectl delete snapshot gcs-repo-1a2b3c4d    (forget, then prune)
// An object is named `<repository>-<first 8 hex digits of the id>`, its uid is
// the full id, creationTimestamp the snapshot's time, labels `repository` and
// `hostname` (plus the Repository's own labels), status {tree, paths,
// hostname, username, uid, gid, tags, repository}. A Repository whose store
// holds no restic repository yet has no snapshots (as Stash).
//
// Repositories are opened in this process through the engine (no restic
// process per request) and kept open: the key derivation runs once per
// Repository spec and Secret, and each list reads only the snapshot files it
// has not seen (one listing of the store's snapshots/ per request), so a
// thousand snapshots list in well under a second.
//
// Thread-safety: Get, List and Delete may run concurrently (the API server
// calls them from its connection threads); requests on one repository are
// serialised.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stash/api/provider.h"
#include "stash/apis/core.h"
#include "stash/apis/repository.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/client.h"

namespace stash::agent {

// How the API reads Repositories and Secrets: from the embedded server's
// store in-process, or through a kube::Client in cluster mode.
struct ObjectSource {
  std::function<Result<apis::Repository>(const std::string& ns, const std::string& name)>
      repository;
  // `ns` "" = every namespace.
  std::function<Result<std::vector<apis::Repository>>(const std::string& ns)> repositories;
  std::function<Result<apis::Secret>(const std::string& ns, const std::string& name)> secret;

  static ObjectSource FromClient(const kube::Client& client);
};

struct SnapshotApiOptions {
  // The embedded node's data directory (local backends live on this host);
  // empty in cluster mode.
  std::string data_dir;
  // The process environment restic's variables are read from beside the
  // storage Secret's (e.g. STORAGE_EMULATOR_HOST, STASH_CACERT).
  std::map<std::string, std::string> env;
};

class SnapshotApi final : public api::ResourceProvider {
 public:
  SnapshotApi(ObjectSource source, Clock& clock, Random& random, SnapshotApiOptions opts);
  ~SnapshotApi() override;

  // Discovery and table columns: Name, ID, Repository, Hostname, Created At.
  static api::ProvidedResource Definition();

  Result<kube::json> Get(const std::string& ns, const std::string& name) override;
  Result<std::vector<kube::json>> List(const std::string& ns,
                                       const api::LabelSelector& labels) override;
  Result<kube::json> Delete(const std::string& ns, const std::string& name) override;

 private:
  struct OpenRepo;
  struct Located;
  // The cached, refreshed repository of a Repository object.
  Result<std::shared_ptr<OpenRepo>> Open(const apis::Repository& repository);
  // Splits the name, reads the Repository, refreshes it; the snapshot's id.
  Result<Located> Locate(const std::string& ns, const std::string& name);

  ObjectSource source_;
  Clock& clock_;
  Random& random_;
  const SnapshotApiOptions opts_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<OpenRepo>> repos_;  // key ns/name
};

}  // namespace stash::agent
