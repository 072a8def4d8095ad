// Registry: the resource types the API server serves — the built-in
// Kubernetes kinds of the issue plus every served version of every installed
// CustomResourceDefinition — as used by routing, discovery and OpenAPI.
//
// Thread-safety: all methods are thread-safe; SetCrds swaps the custom part
// atomically with respect to readers (they get copies).
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stash/api/provider.h"

namespace stash::api {

using json = nlohmann::json;

struct ResourceInfo {
  std::string group;  // "" for core
  std::string version;
  std::string resource;  // plural, e.g. "backupconfigurations"
  std::string kind;
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced = true;
  bool status_subresource = false;
  bool custom = false;          // served from a CRD
  bool has_generation = false;  // metadata.generation tracks spec changes
  json schema;                  // CRs: the version's openAPIV3Schema (may be null)
  json printer_columns;         // CRs: additionalPrinterColumns (array, may be empty)
  // The scale subresource: {specReplicasPath, statusReplicasPath,
  // labelSelectorPath} as in a CRD (JSON paths ".spec.replicas"); null when
  // the resource has none.
  json scale;
  // CRs: the version's selectableFields as field labels ("spec.color").
  std::vector<std::string> selectable_fields;
  // Resources served by a ResourceProvider (not stored): the provider, its
  // verbs and its table columns (Name included).
  std::shared_ptr<ResourceProvider> provider;
  std::vector<std::string> verbs;  // empty: every verb of a stored resource
  std::vector<PrinterColumn> columns;

  // Storage key, shared by all versions of a resource.
  std::string key() const { return group + "/" + resource; }
  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
  // "backupconfigurations.stash.appscode.com" or "secrets", as in messages.
  std::string qualified() const { return group.empty() ? resource : resource + "." + group; }
};

struct GroupVersions {
  std::string group;
  std::vector<std::string> versions;  // preferred first
};

class Registry {
 public:
  Registry();
  // Without the built-in kinds: for a server of provided resources only
  // (AggregatedServer).
  struct Empty {};
  explicit Registry(Empty);

  // Replaces the custom resources with those of `crds` (CRD objects as JSON).
  void SetCrds(const std::vector<json>& crds);
  // Adds (or replaces) a resource served by `provider`.
  void AddProvided(const ProvidedResource& resource, std::shared_ptr<ResourceProvider> provider);

  std::optional<ResourceInfo> Find(const std::string& group, const std::string& version,
                                   const std::string& resource) const;
  // The preferred version of a group/resource key, for cross-resource lookups
  // (e.g. namespace deletion walks every resource).
  std::vector<ResourceInfo> All() const;
  std::vector<ResourceInfo> ForGroupVersion(const std::string& group,
                                            const std::string& version) const;
  // Every group ("" first) with its versions, in Kubernetes' priority order.
  std::vector<GroupVersions> Groups() const;

 private:
  mutable std::mutex mu_;
  std::vector<ResourceInfo> builtin_;
  std::vector<ResourceInfo> custom_;
  std::vector<ResourceInfo> provided_;
};

// ServiceAccounts, RBAC and the review kinds (auth_resources.cc).
std::vector<ResourceInfo> AuthResources();

// Kubernetes' version priority: GA > beta > alpha, then higher numbers first,
// then other strings alphabetically. True when a sorts before b.
bool VersionBefore(const std::string& a, const std::string& b);

}  // namespace stash::api
