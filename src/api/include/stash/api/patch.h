// Patch: the three patch formats the API server accepts on PATCH.
//
//   application/merge-patch+json           ApplyMergePatch (RFC 7386)
//   application/json-patch+json            ApplyJsonPatch (RFC 6902)
//   application/strategic-merge-patch+json ApplyStrategicMergePatch (built-in kinds only)
//
// All functions are pure: they return the patched copy and never modify their
// arguments. Errors are kInvalid, with a message that names the offending
// path; kube-apiserver answers all of them, a failed "test" included, with 422.
//
// Thread-safety: stateless free functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "stash/core/result.h"

namespace stash::api {

// RFC 7386: objects merge recursively, null deletes a member, anything else
// (including arrays) replaces. A non-object patch replaces the whole target.
Result<nlohmann::json> ApplyMergePatch(const nlohmann::json& target, const nlohmann::json& patch);

// RFC 6902: `ops` must be an array of {op, path, value|from}. Operations apply
// in order to a copy; the first failing one aborts the whole patch.
// kInvalid: malformed operation, path that does not exist, bad array index,
// or a "test" operation whose value differs ("JSON patch test failed: ...").
Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& target, const nlohmann::json& ops);

// Kubernetes strategic merge patch for built-in kinds (`kind` is the object's
// kind, e.g. "Deployment", "Pod", "Secret"). Like a merge patch, except that
// lists with a patch merge key (containers/initContainers/ephemeralContainers,
// volumes, volumeMounts, env, ports, imagePullSecrets, tolerations by key,
// ownerReferences by uid, conditions by type, ...) merge element-wise by that
// key, and lists of scalars in `finalizers` merge as a set. Directives:
// `$patch: replace|delete|merge` on maps and list elements, `$retainKeys`,
// `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (order
// honoured where possible). Unknown kinds fall back to merge-key-less
// semantics (lists replace), as the apiserver does for unstructured objects.
Result<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& target,
                                                const nlohmann::json& patch, std::string_view kind);

// kube-apiserver's bound on the operations of one JSON patch.
inline constexpr size_t kMaxJsonPatchOperations = 10000;

// Parses a patch body (JSON text) as the apiserver does: kInvalid with a
// message naming the content type when it is not valid JSON, and for a JSON
// patch when it is not an array / for merge patches when it is not an object.
// Within the request-body limits (decode.h: depth, value count; invalid UTF-8
// becomes U+FFFD); kResourceExhausted (413) for a JSON patch of more than
// kMaxJsonPatchOperations operations. ApplyJsonPatch answers
// kResourceExhausted when its "copy" operations duplicate more than
// kMaxValues values in total.
Result<nlohmann::json> ParsePatchBody(std::string_view body, std::string_view content_type);

}  // namespace stash::api
