// Typed verbs over kube::Client: objects go out as ToJson and come back
// through FromJson, so a malformed answer is a Status naming the object and
// the field ("Deployment demo/web: spec.template.spec.containers: expected a
// list, got object"), never an exception.
//
//   STASH_ASSIGN_OR_RETURN(BackupConfiguration bc, Get<BackupConfiguration>(client, ns, name));
//   STASH_RETURN_IF_ERROR(PatchStatus(client, bc, status));
//
// T is any top-level type of this layer (it names its kube::Resource).
//
// Thread-safety: as kube::Client (all functions may run concurrently).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"
#include "stash/kube/informer.h"

namespace stash::apis {

// "Deployment demo/web", for messages.
template <class T>
std::string Describe(const T& obj) {
  return T::Resource().kind + " " + obj.metadata.namespace_ + "/" + obj.metadata.name;
}

// Decodes an object the server sent (list items lack apiVersion and kind:
// they are filled in).
template <class T>
Result<T> DecodeObject(const json& j) {
  auto obj = FromJson<T>(j);
  if (!obj.ok()) return Status(obj.status()).Prepend(T::Resource().kind + " " + kube::ObjectKey(j));
  if (obj->api_version.empty()) obj->api_version = T::Resource().ApiVersion();
  if (obj->kind.empty()) obj->kind = T::Resource().kind;
  return obj;
}

template <class T>
Result<T> Get(const kube::Client& c, std::string_view ns, std::string_view name) {
  STASH_ASSIGN_OR_RETURN(json j, c.Get(T::Resource(), ns, name));
  return DecodeObject<T>(j);
}

// Every object of the list; one that does not decode fails the call.
template <class T>
Result<std::vector<T>> List(const kube::Client& c, std::string_view ns,
                            const kube::ListOptions& opts = {}) {
  STASH_ASSIGN_OR_RETURN(json list, c.List(T::Resource(), ns, opts));
  std::vector<T> out;
  if (!list.is_object() || !list.contains("items")) return out;
  const json& items = list["items"];
  if (!items.is_array()) {
    return UnavailableError("listing " + T::Resource().plural + ": items is not a list");
  }
  out.reserve(items.size());
  for (const json& item : items) {
    STASH_ASSIGN_OR_RETURN(T obj, DecodeObject<T>(item));
    out.push_back(std::move(obj));
  }
  return out;
}

template <class T>
Result<T> Create(const kube::Client& c, const T& obj) {
  STASH_ASSIGN_OR_RETURN(json j, c.Create(T::Resource(), obj.metadata.namespace_, ToJson(obj)));
  return DecodeObject<T>(j);
}

// PUT of the whole object; its metadata.resourceVersion makes it conditional.
template <class T>
Result<T> Update(const kube::Client& c, const T& obj) {
  json body = ToJson(obj);
  body["apiVersion"] = T::Resource().ApiVersion();
  body["kind"] = T::Resource().kind;
  STASH_ASSIGN_OR_RETURN(json j, c.Update(T::Resource(), obj.metadata.namespace_, body));
  return DecodeObject<T>(j);
}

// A merge patch (RFC 7386) of `meta`'s object; `subresource` "status" for the
// status subresource.
template <class T>
Result<T> MergePatch(const kube::Client& c, const ObjectMeta& meta, const json& patch,
                     std::string_view subresource = "") {
  STASH_ASSIGN_OR_RETURN(json j, c.Patch(T::Resource(), meta.namespace_, meta.name,
                                         kube::PatchType::kMerge, patch, subresource));
  return DecodeObject<T>(j);
}

// Merges `status` into the object's status (members left zero are not
// touched). With `if_version`, only when the object is still at that
// resourceVersion (kConflict otherwise).
template <class T, class S>
Result<T> PatchStatus(const kube::Client& c, const T& obj, const S& status,
                      bool if_version = false) {
  json patch = {{"status", ToJson(status)}};
  if (if_version) patch["metadata"] = {{"resourceVersion", obj.metadata.resource_version}};
  return MergePatch<T>(c, obj.metadata, patch, "status");
}

// `propagation` "" (server default), "Background" or "Foreground".
template <class T>
Status Delete(const kube::Client& c, std::string_view ns, std::string_view name,
              std::string_view propagation = "") {
  return c.Delete(T::Resource(), ns, name, propagation);
}

// An ownerReference to `owner` (controller and blockOwnerDeletion set).
template <class T>
OwnerReference ControllerReference(const T& owner) {
  OwnerReference r;
  r.api_version = T::Resource().ApiVersion();
  r.kind = T::Resource().kind;
  r.name = owner.metadata.name;
  r.uid = owner.metadata.uid;
  r.controller = true;
  r.block_owner_deletion = true;
  return r;
}

}  // namespace stash::apis
