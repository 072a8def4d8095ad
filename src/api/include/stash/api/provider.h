// ResourceProvider: a resource whose objects the server computes instead of
// storing, as an aggregated API server serves them (Stash's
// `repositories.stash.appscode.com` Snapshots live in the backup repository,
// not in etcd). The server routes get, list and delete of such a resource to
// its provider and does the Kubernetes parts itself: discovery with the
// provider's verbs, label and field selectors on what List returns, Tables
// with the provider's columns, and Status errors for the codes it returns
// (kNotFound → 404 NotFound, kInvalid → 400 BadRequest, kUnavailable → 503
// ServiceUnavailable, anything else → 500 InternalError), the message as given.
// Other verbs (create, update, patch, watch, deletecollection) answer 405
// MethodNotAllowed.
//
// Thread-safety: the server calls a provider from many connection threads at
// once; implementations must be thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stash/api/selector.h"
#include "stash/api/table.h"
#include "stash/core/result.h"

namespace stash::api {

// What discovery says about a provided resource, and how `kubectl get`
// prints it.
struct ProvidedResource {
  std::string group;
  std::string version;
  std::string resource;  // plural, e.g. "snapshots"
  std::string kind;
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced = true;
  bool deletable = true;  // "delete" besides "get" and "list"
  // Table columns, the Name column included (format "name").
  std::vector<PrinterColumn> columns;
  // The kind's openAPIV3Schema (as a CRD version's), published in the
  // OpenAPI v3 document for `kubectl explain`; null: none.
  nlohmann::json schema;
};

class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;

  // One object (apiVersion and kind are filled in by the server).
  virtual Result<nlohmann::json> Get(const std::string& ns, const std::string& name) = 0;
  // The objects of `ns` ("" = every namespace). `labels` is the request's
  // selector, a hint to skip work: the server filters the result again.
  virtual Result<std::vector<nlohmann::json>> List(const std::string& ns,
                                                   const LabelSelector& labels) = 0;
  // Removes the object; returns what it was.
  virtual Result<nlohmann::json> Delete(const std::string& ns, const std::string& name) = 0;
};

}  // namespace stash::api
