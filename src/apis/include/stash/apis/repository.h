// Stash's Repository (stash.appscode.com/v1alpha1): where a restic
// repository lives (exactly one backend) and the Secret that opens it, and
// the status the sidecar writes after each backup (stash-api.md §1.1).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/core.h"
#include "stash/apis/meta.h"
#include "stash/apis/stash_common.h"
#include "stash/kube/client.h"

namespace stash::apis {

// backend.local: a core/v1 VolumeSource (inlined) mounted at mountPath.
struct LocalSpec {
  VolumeSource source;
  std::string mount_path;
  std::string sub_path;
  STASH_APIS_STRUCT(LocalSpec);
};
STASH_APIS_DECLARE_CODEC(LocalSpec);

// s3, gcs, azure, swift, b2: a bucket (or container) and a prefix.
struct S3Spec {
  std::string endpoint;
  std::string bucket;
  std::string prefix;
  std::string region;
  bool insecure_tls = false;
  STASH_APIS_STRUCT(S3Spec);
};
STASH_APIS_DECLARE_CODEC(S3Spec);

struct BucketSpec {
  std::string bucket;
  std::string prefix;
  int64_t max_connections = 0;
  STASH_APIS_STRUCT(BucketSpec);
};
STASH_APIS_DECLARE_CODEC(BucketSpec);

struct ContainerSpec {  // azure, swift
  std::string container;
  std::string prefix;
  int64_t max_connections = 0;
  STASH_APIS_STRUCT(ContainerSpec);
};
STASH_APIS_DECLARE_CODEC(ContainerSpec);

struct RestSpec {
  std::string url;
  STASH_APIS_STRUCT(RestSpec);
};
STASH_APIS_DECLARE_CODEC(RestSpec);

struct Backend {
  std::string storage_secret_name;
  std::optional<LocalSpec> local;
  std::optional<S3Spec> s3;
  std::optional<BucketSpec> gcs;
  std::optional<ContainerSpec> azure;
  std::optional<ContainerSpec> swift;
  std::optional<BucketSpec> b2;
  std::optional<RestSpec> rest;
  STASH_APIS_STRUCT(Backend);
};
STASH_APIS_DECLARE_CODEC(Backend);

struct AllowedNamespaces {
  std::string from;  // All, Selector, Same
  std::optional<LabelSelector> selector;
  STASH_APIS_STRUCT(AllowedNamespaces);
};
STASH_APIS_DECLARE_CODEC(AllowedNamespaces);

struct UsagePolicy {
  AllowedNamespaces allowed_namespaces;
  STASH_APIS_STRUCT(UsagePolicy);
};
STASH_APIS_DECLARE_CODEC(UsagePolicy);

struct RepositorySpec {
  Backend backend;
  bool wipe_out = false;
  std::optional<UsagePolicy> usage_policy;
  STASH_APIS_STRUCT(RepositorySpec);
};
STASH_APIS_DECLARE_CODEC(RepositorySpec);

struct RepositoryStatus {
  int64_t observed_generation = 0;
  std::string first_backup_time;
  std::string last_backup_time;
  std::optional<bool> integrity;
  std::string total_size;  // "2.567 KiB"
  std::optional<int64_t> snapshot_count;
  std::optional<int64_t> snapshots_removed_on_last_cleanup;
  std::vector<TypedObjectReference> references;
  STASH_APIS_STRUCT(RepositoryStatus);
};
STASH_APIS_DECLARE_CODEC(RepositoryStatus);

struct Repository {
  static const kube::Resource& Resource() { return kube::res::kRepositories; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  RepositorySpec spec;
  RepositoryStatus status;
  STASH_APIS_STRUCT(Repository);
};
STASH_APIS_DECLARE_CODEC(Repository);

}  // namespace stash::apis
