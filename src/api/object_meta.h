// Reading and editing the metadata the garbage collector, the namespace
// controller and deletion share: finalizers, deletionTimestamp and
// ownerReferences of objects kept as JSON.
//
// Thread-safety: stateless free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stash::api {

using json = nlohmann::json;

// metav1.FinalizerOrphanDependents / FinalizerDeleteDependents.
inline constexpr const char* kOrphanFinalizer = "orphan";
inline constexpr const char* kForegroundFinalizer = "foregroundDeletion";
// The namespace controller's entry in a Namespace's spec.finalizers.
inline constexpr const char* kNamespaceFinalizer = "kubernetes";

std::string MetaField(const json& obj, const char* field);
bool IsTerminating(const json& obj);
std::vector<std::string> Finalizers(const json& obj);
bool HasFinalizer(const json& obj, const std::string& finalizer);
// Adds or removes one metadata finalizer; false when nothing changed.
bool AddFinalizer(json* obj, const std::string& finalizer);
bool RemoveFinalizer(json* obj, const std::string& finalizer);
// Whether something still holds a terminating object: a metadata finalizer,
// or for a Namespace an entry of spec.finalizers.
bool HeldByFinalizers(const json& obj, bool is_namespace);

struct OwnerRef {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool block_owner_deletion = false;
};
std::vector<OwnerRef> OwnerRefs(const json& obj);
// Drops the ownerReferences whose uid is in `uids`; false when none matched.
bool RemoveOwnerRefs(json* obj, const std::vector<std::string>& uids);

}  // namespace stash::api
