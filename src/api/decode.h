// Client bytes to JSON under stated limits. Every decoder the API server runs
// on a request (JSON and patch bodies here, YAML in yaml_json.h, protobuf in
// stash/api/protobuf.h) keeps to these bounds, so no input — invalid UTF-8,
// brackets nested 100,000 deep, a million tiny values — can throw through,
// recurse without bound or allocate more than a small multiple of the body:
//
//   kMaxRequestBodyBytes  3 MiB    kube-apiserver's limit (413 RequestEntityTooLarge)
//   kMaxDepth             1,000    nesting of objects/arrays (400); Go's decoder
//                                  allows 10,000, but every walk of an object here
//                                  is recursive and 1,000 leaves them a wide margin
//   kMaxValues            300,000  JSON values in one decoded body (413): a 3 MiB
//                                  body of `[{},{},…]` would otherwise take ~80 MB
//   kMaxObjectBytes       1.5 MiB  stored (JSON) size of one object, etcd's default
//                                  --max-request-bytes (413)
//
// Invalid UTF-8 in a JSON body becomes U+FFFD, as Go's encoding/json (and so
// kube-apiserver) decodes it; answers never fail on a stray byte either
// (DumpJson replaces what cannot be encoded).
//
// Errors: kInvalid (→ 400) for malformed input, kResourceExhausted (→ 413) for
// input over a size limit; messages name the limit.
//
// Thread-safety: stateless free functions.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::api {

inline constexpr size_t kMaxRequestBodyBytes = 3 * 1024 * 1024;
inline constexpr size_t kMaxDepth = 1000;
inline constexpr size_t kMaxValues = 300000;
inline constexpr size_t kMaxObjectBytes = 1536 * 1024;

bool IsValidUtf8(std::string_view s);
// Offset of the first byte that is not part of a valid UTF-8 sequence, or
// std::string_view::npos.
size_t FirstInvalidUtf8(std::string_view s);
// `s` with each byte that is not part of a valid UTF-8 sequence replaced by
// U+FFFD (as Go's range over a string does).
std::string ToValidUtf8(std::string_view s);
// Replaces invalid UTF-8 in every string and object key of `value`, in place
// (iteratively: no recursion on the depth of the value).
void MakeValidUtf8(nlohmann::json* value);

// Serialises without ever throwing (invalid UTF-8 becomes U+FFFD).
std::string DumpJson(const nlohmann::json& value);

// Parses a JSON text from a client under the limits above. kInvalid messages
// start "json parse error: " (callers prefix their context, as kube-apiserver's
// "couldn't get version/kind; json parse error: ..."); `what` names the body
// in messages about limits ("request body", "merge patch").
Result<nlohmann::json> ParseJsonLimited(std::string_view text, std::string_view what);

// kInvalid when `value` nests deeper than `max_depth` (iterative walk).
Status CheckDepth(const nlohmann::json& value, size_t max_depth, std::string_view what);

// The object a request body holds, whichever decoder its Content-Type (or a
// protobuf body's magic) picks: protobuf (strings repaired as above), YAML
// (application/yaml, application/apply-patch+yaml: exactly one document) or
// JSON, all under the limits above. kInvalid "couldn't get version/kind; ..."
// when it is no object. The one entry for every body the server decodes as an
// object (writes, reviews, RBAC's escalation check).
Result<nlohmann::json> DecodeObjectBody(std::string_view content_type, std::string_view body);

}  // namespace stash::api
