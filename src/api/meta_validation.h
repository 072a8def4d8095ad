// ObjectMeta validation on every write, as kube-apiserver's
// ValidateObjectMeta does it, with Kubernetes 1.32's messages:
//
// - metadata.name on create, per kind: a DNS-1123 label for Namespaces, a
//   DNS-1035 label for Services, a path segment for RBAC objects and Events,
//   `<plural>.<group>` for CustomResourceDefinitions, at most 52 characters
//   for CronJobs, a DNS-1123 subdomain for everything else;
// - metadata.generateName: the same rule with a trailing '-' allowed;
// - metadata.labels: qualified-name keys, values of at most 63 characters of
//   [A-Za-z0-9_.-]; and, stash's own bound (kube has none but etcd's object
//   size), at most 256 KiB of keys and values together;
// - metadata.annotations: qualified-name keys (case-insensitive), at most
//   256 KiB of keys and values together ("Too long: must have at most 262144
//   bytes");
// - metadata.finalizers: qualified names.
//
// A field of the wrong JSON type (labels that are not a map of strings, ...)
// is a decoding error (400), as Go's typed decoding makes it; the rest are
// field errors for a 422 Invalid. Bad values in messages are quoted as Go's
// %q does, cut to 256 bytes.
//
// Thread-safety: stateless free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "registry.h"
#include "stash/api/schema.h"
#include "stash/core/status.h"

namespace stash::api {

inline constexpr size_t kMaxAnnotationBytes = 256 * 1024;
inline constexpr size_t kMaxLabelBytes = 256 * 1024;

struct MetaValidation {
  Status bad_request;               // a type error: answer 400 with its message
  std::vector<FieldError> invalid;  // answer 422 with these
};

// Decoding errors of the fields every object shares (apiVersion and kind
// strings, metadata an object with fields of their Go types), as the typed
// decoder reports them: kInvalid "json: cannot unmarshal ...".
Status CheckTypeMeta(const nlohmann::json& object);

// `create`: also checks metadata.name (immutable afterwards).
MetaValidation ValidateObjectMeta(const ResourceInfo& info, const nlohmann::json& object,
                                  bool create);

// The error strings kube's validators return (empty: valid).
std::vector<std::string> IsDns1123Label(const std::string& value);
std::vector<std::string> IsDns1123Subdomain(const std::string& value);
std::vector<std::string> IsDns1035Label(const std::string& value);
std::vector<std::string> IsQualifiedName(const std::string& value);
std::vector<std::string> IsValidLabelValue(const std::string& value);

// Go's strconv.Quote of a (client) string, cut after `max_bytes`.
std::string GoQuoteShort(const std::string& value, size_t max_bytes = 256);

}  // namespace stash::api
