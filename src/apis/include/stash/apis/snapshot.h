// Stash's aggregated Snapshot (repositories.stash.appscode.com/v1alpha1,
// stash-api.md §1.9): one restic snapshot of a Repository as a read/delete
// only object, named `<repository>-<first 8 hex digits of its id>`.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

// Every member but tags is always written, as Stash's object shows them.
struct SnapshotStatus {
  std::string tree;
  std::vector<std::string> paths;
  std::string hostname;
  std::string username;
  int64_t uid = 0;
  int64_t gid = 0;
  std::vector<std::string> tags;
  std::string repository;
  STASH_APIS_STRUCT(SnapshotStatus);
};
STASH_APIS_DECLARE_CODEC(SnapshotStatus);

struct Snapshot {
  static const kube::Resource& Resource();
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  SnapshotStatus status;
  STASH_APIS_STRUCT(Snapshot);
};
STASH_APIS_DECLARE_CODEC(Snapshot);

}  // namespace stash::apis
