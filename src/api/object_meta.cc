#include "object_meta.h"

#include <algorithm>

namespace stash::api {

std::string MetaField(const json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

bool IsTerminating(const json& obj) { return !MetaField(obj, "deletionTimestamp").empty(); }

std::vector<std::string> Finalizers(const json& obj) {
  std::vector<std::string> out;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return out;
  auto f = m->find("finalizers");
  if (f == m->end() || !f->is_array()) return out;
  for (const json& s : *f) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

bool HasFinalizer(const json& obj, const std::string& finalizer) {
  std::vector<std::string> all = Finalizers(obj);
  return std::find(all.begin(), all.end(), finalizer) != all.end();
}

bool AddFinalizer(json* obj, const std::string& finalizer) {
  if (HasFinalizer(*obj, finalizer)) return false;
  json& m = (*obj)["metadata"];
  if (!m.contains("finalizers") || !m["finalizers"].is_array()) m["finalizers"] = json::array();
  m["finalizers"].push_back(finalizer);
  return true;
}

bool RemoveFinalizer(json* obj, const std::string& finalizer) {
  if (!HasFinalizer(*obj, finalizer)) return false;
  json& list = (*obj)["metadata"]["finalizers"];
  json kept = json::array();
  for (const json& f : list) {
    if (f != finalizer) kept.push_back(f);
  }
  if (kept.empty()) {
    (*obj)["metadata"].erase("finalizers");
  } else {
    list = std::move(kept);
  }
  return true;
}

bool HeldByFinalizers(const json& obj, bool is_namespace) {
  if (!Finalizers(obj).empty()) return true;
  if (!is_namespace) return false;
  const json* spec = obj.contains("spec") ? &obj["spec"] : nullptr;
  return spec && spec->is_object() && spec->contains("finalizers") &&
         (*spec)["finalizers"].is_array() && !(*spec)["finalizers"].empty();
}

std::vector<OwnerRef> OwnerRefs(const json& obj) {
  std::vector<OwnerRef> out;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return out;
  auto refs = m->find("ownerReferences");
  if (refs == m->end() || !refs->is_array()) return out;
  for (const json& r : *refs) {
    if (!r.is_object()) continue;
    OwnerRef o;
    o.api_version = r.value("apiVersion", "");
    o.kind = r.value("kind", "");
    o.name = r.value("name", "");
    o.uid = r.value("uid", "");
    o.controller = r.value("controller", false);
    o.block_owner_deletion = r.value("blockOwnerDeletion", false);
    if (!o.uid.empty()) out.push_back(std::move(o));
  }
  return out;
}

bool RemoveOwnerRefs(json* obj, const std::vector<std::string>& uids) {
  json& m = (*obj)["metadata"];
  if (!m.contains("ownerReferences") || !m["ownerReferences"].is_array()) return false;
  json kept = json::array();
  bool removed = false;
  for (const json& r : m["ownerReferences"]) {
    std::string uid = r.is_object() ? r.value("uid", "") : "";
    if (std::find(uids.begin(), uids.end(), uid) != uids.end()) {
      removed = true;
    } else {
      kept.push_back(r);
    }
  }
  if (!removed) return false;
  if (kept.empty()) {
    m.erase("ownerReferences");
  } else {
    m["ownerReferences"] = std::move(kept);
  }
  return true;
}

}  // namespace stash::api
