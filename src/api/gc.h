// GarbageCollector: kube-controller-manager's garbage collector for the
// objects of this server. It indexes every object's ownerReferences and
//  - deletes a dependent once none of its owners exists any more (an owner is
//    gone when no object of its kind and name has its uid): Background
//    propagation, e.g. a BackupConfiguration's BackupSessions go with it;
//  - for an owner deleted with propagationPolicy=Foreground (finalizer
//    `foregroundDeletion`), deletes its dependents and removes the finalizer
//    once no dependent with blockOwnerDeletion=true is left;
//  - for an owner deleted with propagationPolicy=Orphan (finalizer `orphan`),
//    removes the ownerReferences to it from its dependents, then the
//    finalizer;
//  - drops references to missing owners from a dependent that still has a
//    live owner.
//
// Thread-safety: driven by ControllerManager's one thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "controllers.h"
#include "object_meta.h"

namespace stash::api {

class GarbageCollector final : public Controller {
 public:
  explicit GarbageCollector(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "gc"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;

 private:
  enum class OwnerState { kSolid, kDangling, kWaiting };

  void Enqueue(const char* action, const ObjectKey& key);
  void EnqueueDependents(const std::string& uid);
  // The owner's key, if its kind is served (namespaced owners live in the
  // dependent's namespace).
  std::optional<ObjectKey> OwnerKey(const ObjectKey& dependent, const OwnerRef& ref);
  OwnerState Classify(const ObjectKey& dependent, const OwnerRef& ref);
  // attemptToDeleteItem
  void AttemptToDelete(const ObjectKey& key);
  // processDeletingDependentsItem
  void ProcessDeletingDependents(const ObjectKey& key);
  void OrphanDependents(const ObjectKey& key);
  void Retry(const char* action, const ObjectKey& key, const Status& s);

  ControllerContext& ctx_;
  std::map<ObjectKey, std::vector<OwnerRef>> owners_;      // objects with owners
  std::map<std::string, std::set<ObjectKey>> dependents_;  // owner uid -> dependents
};

}  // namespace stash::api
