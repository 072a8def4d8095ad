// DeleteOptions as kube-apiserver reads them (body or query), and how a
// propagation policy turns into the garbage collector's finalizers.
//
// Thread-safety: stateless free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_server.h"
#include "stash/api/schema.h"

namespace stash::api {

enum class Propagation { kUnset, kBackground, kForeground, kOrphan };

struct DeleteOptions {
  Propagation propagation = Propagation::kUnset;
  bool dry_run = false;
  std::string precondition_uid;
  std::string precondition_rv;
};

// `propagationPolicy`, the deprecated `orphanDependents`, `dryRun` and
// `preconditions` from the DeleteOptions body (may be null) and the query.
// Errors are the field errors of `DeleteOptions.meta.k8s.io "" is invalid`.
DeleteOptions ParseDeleteOptions(const HttpRequest& req, const nlohmann::json& body,
                                 std::vector<FieldError>* errors);

// Applies the policy to the object's finalizers as the apiserver's generic
// store does (deletionFinalizersForGarbageCollection): an explicit policy
// replaces `orphan`/`foregroundDeletion`, an unset one keeps what is there.
// Returns whether the finalizers changed.
bool ApplyPropagation(nlohmann::json* obj, Propagation propagation);

}  // namespace stash::api
