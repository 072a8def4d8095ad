// authentication.k8s.io/v1 TokenRequest: how the embedded node gets a
// ServiceAccount's token for a pod (POST serviceaccounts/<name>/token), as
// kubelet does.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"

namespace stash::apis {

// The object the token is bound to (a Pod): the token dies with it.
struct BoundObjectReference {
  std::string kind;
  std::string api_version;
  std::string name;
  std::string uid;
  STASH_APIS_STRUCT(BoundObjectReference);
};
STASH_APIS_DECLARE_CODEC(BoundObjectReference);

struct TokenRequestSpec {
  std::vector<std::string> audiences;  // empty: the API server's own
  std::optional<int64_t> expiration_seconds;
  std::optional<BoundObjectReference> bound_object_ref;
  STASH_APIS_STRUCT(TokenRequestSpec);
};
STASH_APIS_DECLARE_CODEC(TokenRequestSpec);

struct TokenRequestStatus {
  std::string token;
  std::string expiration_timestamp;
  STASH_APIS_STRUCT(TokenRequestStatus);
};
STASH_APIS_DECLARE_CODEC(TokenRequestStatus);

// Created through the ServiceAccount's `token` subresource, so it names no
// kube::Resource of its own.
struct TokenRequest {
  std::string api_version = "authentication.k8s.io/v1";
  std::string kind = "TokenRequest";
  ObjectMeta metadata;
  TokenRequestSpec spec;
  TokenRequestStatus status;
  STASH_APIS_STRUCT(TokenRequest);
};
STASH_APIS_DECLARE_CODEC(TokenRequest);

}  // namespace stash::apis
