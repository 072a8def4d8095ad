#include "stash/apis/snapshot.h"

namespace stash::apis {

template <class V>
void SnapshotStatus::Visit(V& v) {
  v("tree", tree, Emit::kAlways);
  v("paths", paths, Emit::kAlways);
  v("hostname", hostname, Emit::kAlways);
  v("username", username, Emit::kAlways);
  v("uid", uid, Emit::kAlways);
  v("gid", gid, Emit::kAlways);
  v("tags", tags);
  v("repository", repository, Emit::kAlways);
}
STASH_APIS_DEFINE_CODEC(SnapshotStatus);

const kube::Resource& Snapshot::Resource() {
  static const kube::Resource r{"repositories.stash.appscode.com", "v1alpha1", "snapshots",
                                "Snapshot"};
  return r;
}

template <class V>
void Snapshot::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Snapshot);

}  // namespace stash::apis
