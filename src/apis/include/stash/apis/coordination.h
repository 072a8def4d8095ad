// coordination.k8s.io/v1 Lease: leader election among a workload's sidecars
// (and, later, between operator replicas).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct LeaseSpec {
  std::optional<std::string> holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<std::string> acquire_time;  // MicroTime "...T06:13:05.000000Z"
  std::optional<std::string> renew_time;
  std::optional<int32_t> lease_transitions;
  STASH_APIS_STRUCT(LeaseSpec);
};
STASH_APIS_DECLARE_CODEC(LeaseSpec);

struct Lease {
  static const kube::Resource& Resource() { return kube::res::kLeases; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  LeaseSpec spec;
  STASH_APIS_STRUCT(Lease);
};
STASH_APIS_DECLARE_CODEC(Lease);

}  // namespace stash::apis
