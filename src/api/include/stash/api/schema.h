// Schema: validation, pruning and defaulting of custom resources against a
// CRD version's openAPIV3Schema (the structural subset Kubernetes accepts).
//
// Supported keywords: type (object, array, string, integer, number, boolean),
// properties, required, items, additionalProperties (bool or schema), enum,
// nullable, format (date-time, date, int32, int64, byte, duration basics),
// pattern, minimum/maximum (+exclusive), minLength/maxLength, minItems/
// maxItems, allOf/anyOf/oneOf/not, default, x-kubernetes-preserve-unknown-fields,
// x-kubernetes-int-or-string, x-kubernetes-embedded-resource.
// At the root, apiVersion, kind and metadata are always known (the server
// validates metadata itself); schema constraints under metadata are ignored.
// A null where the schema does not say nullable is not an error: the apiserver
// drops such nulls (ApplyDefaults does), so only a required field left missing
// by it is reported.
//
// Error messages follow kube-apiserver's field errors, e.g.
//   spec.schedule: Invalid value: "integer": spec.schedule in body must be of type string:
//   "integer" spec.retentionPolicy.name: Required value spec.driver: Unsupported value: "Foo":
//   supported values: "Restic", "VolumeSnapshotter" unknown field "spec.foo"
//
// Thread-safety: stateless free functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stash::api {

struct FieldError {
  // Dotted path with list indices, e.g. "spec.target.paths[0]".
  std::string field;
  // Kubernetes' cause type: "Invalid value", "Required value",
  // "Unsupported value", "unknown field", "Too long", "Too many".
  std::string type;
  // The whole line as kubectl prints it (field.Error.Error()), see above.
  std::string message;
  // Without the leading "<field>: " (field.Error.ErrorBody()); this is what a
  // Status' details.causes[].message carries.
  std::string body;
};

// Validates `object` against `schema` (an openAPIV3Schema). With `strict`,
// fields the schema does not know are reported as "unknown field" errors;
// without it they are not reported (use PruneUnknownFields to drop them).
// Returns no errors for a valid object. Errors are in document order.
std::vector<FieldError> Validate(const nlohmann::json& schema, const nlohmann::json& object,
                                 bool strict);

// Returns `object` with every `default:` of the schema applied where the field
// is absent (recursively, also inside list items and additionalProperties).
nlohmann::json ApplyDefaults(const nlohmann::json& schema, const nlohmann::json& object);

struct PruneResult {
  nlohmann::json object;
  // Dotted paths of the removed fields, e.g. "spec.foo", in document order.
  std::vector<std::string> pruned;
};

// Removes fields the schema does not specify (unless under
// x-kubernetes-preserve-unknown-fields), as the apiserver does for
// non-strict field validation. Root apiVersion/kind/metadata are kept.
PruneResult PruneUnknownFields(const nlohmann::json& schema, const nlohmann::json& object);

// The human name of a JSON value's type as used in messages: "string",
// "integer", "number", "boolean", "object", "array", "null".
std::string JsonTypeName(const nlohmann::json& value);

}  // namespace stash::api
