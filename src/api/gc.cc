#include "gc.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace stash::api {

namespace {

bool SameRefs(const std::vector<OwnerRef>& a, const std::vector<OwnerRef>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].uid != b[i].uid || a[i].block_owner_deletion != b[i].block_owner_deletion ||
        a[i].kind != b[i].kind || a[i].name != b[i].name) {
      return false;
    }
  }
  return true;
}

}  // namespace

void GarbageCollector::Enqueue(const char* action, const ObjectKey& key) {
  ctx_.queue.Add(std::string("gc/") + action + ":" + key.ToString());
}

void GarbageCollector::EnqueueDependents(const std::string& uid) {
  auto it = dependents_.find(uid);
  if (it == dependents_.end()) return;
  for (const ObjectKey& d : it->second) Enqueue("delete", d);
}

std::optional<ObjectKey> GarbageCollector::OwnerKey(const ObjectKey& dependent,
                                                    const OwnerRef& ref) {
  auto info = ctx_.ResourceForKind(ref.api_version, ref.kind);
  if (!info) return std::nullopt;
  return ObjectKey{info->key(), info->namespaced ? dependent.ns : "", ref.name};
}

void GarbageCollector::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  const ObjectKey key{event.resource, event.ns, MetaField(object, "name")};
  const std::string uid = MetaField(object, "uid");
  std::vector<OwnerRef> refs;
  if (event.type != EventType::kDeleted) refs = OwnerRefs(object);
  auto old = owners_.find(key);
  const bool changed = old == owners_.end() ? !refs.empty() : !SameRefs(old->second, refs);
  if (changed) {
    if (old != owners_.end()) {
      for (const OwnerRef& r : old->second) {
        auto d = dependents_.find(r.uid);
        if (d != dependents_.end()) {
          d->second.erase(key);
          if (d->second.empty()) dependents_.erase(d);
        }
        // An owner waiting for this dependent may be free now.
        if (auto owner = OwnerKey(key, r)) Enqueue("foreground", *owner);
      }
      owners_.erase(old);
    }
    if (!refs.empty()) {
      for (const OwnerRef& r : refs) dependents_[r.uid].insert(key);
      owners_[key] = refs;
      Enqueue("delete", key);  // its owners may be gone already
    }
  }
  if (event.type == EventType::kDeleted) {
    EnqueueDependents(uid);
    return;
  }
  if (IsTerminating(object)) {
    if (HasFinalizer(object, kOrphanFinalizer)) Enqueue("orphan", key);
    if (HasFinalizer(object, kForegroundFinalizer)) {
      Enqueue("foreground", key);
      EnqueueDependents(uid);
    }
  }
}

void GarbageCollector::Process(const std::string& item) {
  size_t colon = item.find(':');
  std::string action = item.substr(0, colon);
  auto key = ObjectKey::Parse(item.substr(colon + 1));
  if (!key) return;
  if (action == "delete") AttemptToDelete(*key);
  if (action == "foreground") ProcessDeletingDependents(*key);
  if (action == "orphan") OrphanDependents(*key);
}

void GarbageCollector::Retry(const char* action, const ObjectKey& key, const Status& s) {
  if (s.ok() || s.code() == Code::kNotFound || s.code() == Code::kConflict) return;
  spdlog::warn("garbage collector: {} {}/{}: {}; retrying", action, key.ns, key.name, s.ToString());
  ctx_.queue.Add(std::string("gc/") + action + ":" + key.ToString(), std::chrono::seconds(1));
}

GarbageCollector::OwnerState GarbageCollector::Classify(const ObjectKey& dependent,
                                                        const OwnerRef& ref) {
  auto info = ctx_.ResourceForKind(ref.api_version, ref.kind);
  // An owner of a kind this server does not serve cannot be checked; as
  // kube's collector, leave the dependent alone.
  if (!info) return OwnerState::kSolid;
  // A cluster-scoped dependent cannot have a namespaced owner.
  if (info->namespaced && dependent.ns.empty()) return OwnerState::kDangling;
  auto owner = ctx_.store.Get(info->key(), info->namespaced ? dependent.ns : "", ref.name);
  if (!owner || MetaField(*owner, "uid") != ref.uid) return OwnerState::kDangling;
  if (IsTerminating(*owner) && HasFinalizer(*owner, kForegroundFinalizer)) {
    return OwnerState::kWaiting;
  }
  return OwnerState::kSolid;
}

void GarbageCollector::AttemptToDelete(const ObjectKey& key) {
  auto obj = ctx_.store.Get(key.resource, key.ns, key.name);
  if (!obj) return;
  if (IsTerminating(*obj)) {
    if (HasFinalizer(*obj, kForegroundFinalizer)) Enqueue("foreground", key);
    return;
  }
  std::vector<OwnerRef> refs = OwnerRefs(*obj);
  if (refs.empty()) return;
  std::vector<std::string> solid, dangling, waiting;
  for (const OwnerRef& r : refs) {
    switch (Classify(key, r)) {
      case OwnerState::kSolid:
        solid.push_back(r.uid);
        break;
      case OwnerState::kDangling:
        dangling.push_back(r.uid);
        break;
      case OwnerState::kWaiting:
        waiting.push_back(r.uid);
        break;
    }
  }
  auto info = ctx_.ResourceForKey(key.resource);
  if (!info) return;
  const std::string uid = MetaField(*obj, "uid");
  if (!solid.empty()) {
    if (dangling.empty() && waiting.empty()) return;
    // A live owner keeps it; the references to owners that are gone or
    // going go instead.
    std::vector<std::string> drop = dangling;
    drop.insert(drop.end(), waiting.begin(), waiting.end());
    auto r = ctx_.handler.ModifyObject(*info, key.ns, key.name, uid, [&](json* o) {
      RemoveOwnerRefs(o, drop);
      return Status::Ok();
    });
    Retry("delete", key, r.status());
    return;
  }
  DeleteOptions options;
  options.precondition_uid = uid;
  auto deps = dependents_.find(uid);
  const bool has_dependents = deps != dependents_.end() && !deps->second.empty();
  if (!waiting.empty() && has_dependents) {
    options.propagation = Propagation::kForeground;
  } else if (HasFinalizer(*obj, kOrphanFinalizer)) {
    options.propagation = Propagation::kOrphan;
  } else if (HasFinalizer(*obj, kForegroundFinalizer)) {
    options.propagation = Propagation::kForeground;
  } else {
    options.propagation = Propagation::kBackground;
  }
  spdlog::debug("garbage collector: deleting {} {}/{} (owners gone)", info->kind, key.ns, key.name);
  Retry("delete", key, ctx_.handler.DeleteWithOptions(*info, key.ns, key.name, options).status());
}

void GarbageCollector::ProcessDeletingDependents(const ObjectKey& key) {
  auto obj = ctx_.store.Get(key.resource, key.ns, key.name);
  if (!obj || !IsTerminating(*obj) || !HasFinalizer(*obj, kForegroundFinalizer)) return;
  const std::string uid = MetaField(*obj, "uid");
  std::vector<ObjectKey> blocking;
  if (auto it = dependents_.find(uid); it != dependents_.end()) {
    for (const ObjectKey& d : it->second) {
      auto refs = owners_.find(d);
      if (refs == owners_.end()) continue;
      bool blocks = std::any_of(refs->second.begin(), refs->second.end(), [&](const OwnerRef& r) {
        return r.uid == uid && r.block_owner_deletion;
      });
      if (blocks) blocking.push_back(d);
    }
  }
  if (blocking.empty()) {
    auto info = ctx_.ResourceForKey(key.resource);
    if (!info) return;
    auto r = ctx_.handler.ModifyObject(*info, key.ns, key.name, uid, [](json* o) {
      RemoveFinalizer(o, kForegroundFinalizer);
      return Status::Ok();
    });
    Retry("foreground", key, r.status());
    return;
  }
  for (const ObjectKey& d : blocking) Enqueue("delete", d);
}

void GarbageCollector::OrphanDependents(const ObjectKey& key) {
  auto obj = ctx_.store.Get(key.resource, key.ns, key.name);
  if (!obj || !IsTerminating(*obj) || !HasFinalizer(*obj, kOrphanFinalizer)) return;
  const std::string uid = MetaField(*obj, "uid");
  std::set<ObjectKey> deps;
  if (auto it = dependents_.find(uid); it != dependents_.end()) deps = it->second;
  for (const ObjectKey& d : deps) {
    auto info = ctx_.ResourceForKey(d.resource);
    if (!info) continue;
    auto r = ctx_.handler.ModifyObject(*info, d.ns, d.name, "", [&](json* o) {
      RemoveOwnerRefs(o, {uid});
      return Status::Ok();
    });
    if (!r.ok() && r.status().code() != Code::kNotFound) {
      Retry("orphan", key, r.status());
      return;
    }
  }
  auto info = ctx_.ResourceForKey(key.resource);
  if (!info) return;
  auto r = ctx_.handler.ModifyObject(*info, key.ns, key.name, uid, [](json* o) {
    RemoveFinalizer(o, kOrphanFinalizer);
    return Status::Ok();
  });
  Retry("orphan", key, r.status());
}

}  // namespace stash::api
