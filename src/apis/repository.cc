#include "stash/apis/repository.h"

namespace stash::apis {

template <class V>
void LocalSpec::Visit(V& v) {
  source.Visit(v);
  v("mountPath", mount_path);
  v("subPath", sub_path);
}
STASH_APIS_DEFINE_CODEC(LocalSpec);

template <class V>
void S3Spec::Visit(V& v) {
  v("endpoint", endpoint);
  v("bucket", bucket);
  v("prefix", prefix);
  v("region", region);
  v("insecureTLS", insecure_tls);
}
STASH_APIS_DEFINE_CODEC(S3Spec);

template <class V>
void BucketSpec::Visit(V& v) {
  v("bucket", bucket);
  v("prefix", prefix);
  v("maxConnections", max_connections);
}
STASH_APIS_DEFINE_CODEC(BucketSpec);

template <class V>
void ContainerSpec::Visit(V& v) {
  v("container", container);
  v("prefix", prefix);
  v("maxConnections", max_connections);
}
STASH_APIS_DEFINE_CODEC(ContainerSpec);

template <class V>
void RestSpec::Visit(V& v) {
  v("url", url);
}
STASH_APIS_DEFINE_CODEC(RestSpec);

template <class V>
void Backend::Visit(V& v) {
  v("storageSecretName", storage_secret_name);
  v("local", local);
  v("s3", s3);
  v("gcs", gcs);
  v("azure", azure);
  v("swift", swift);
  v("b2", b2);
  v("rest", rest);
}
STASH_APIS_DEFINE_CODEC(Backend);

template <class V>
void AllowedNamespaces::Visit(V& v) {
  v("from", from);
  v("selector", selector);
}
STASH_APIS_DEFINE_CODEC(AllowedNamespaces);

template <class V>
void UsagePolicy::Visit(V& v) {
  v("allowedNamespaces", allowed_namespaces);
}
STASH_APIS_DEFINE_CODEC(UsagePolicy);

template <class V>
void RepositorySpec::Visit(V& v) {
  v("backend", backend);
  v("wipeOut", wipe_out);
  v("usagePolicy", usage_policy);
}
STASH_APIS_DEFINE_CODEC(RepositorySpec);

template <class V>
void RepositoryStatus::Visit(V& v) {
  v("observedGeneration", observed_generation);
  v("firstBackupTime", first_backup_time);
  v("lastBackupTime", last_backup_time);
  v("integrity", integrity);
  v("totalSize", total_size);
  v("snapshotCount", snapshot_count);
  v("snapshotsRemovedOnLastCleanup", snapshots_removed_on_last_cleanup);
  v("references", references);
}
STASH_APIS_DEFINE_CODEC(RepositoryStatus);

template <class V>
void Repository::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Repository);

}  // namespace stash::apis
