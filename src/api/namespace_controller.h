// NamespaceController: what kube-controller-manager does for a deleted
// Namespace. `kubectl delete ns` only marks it (deletionTimestamp, phase
// Terminating); this controller then deletes everything in it (Background
// propagation), reports progress in the Namespace's conditions as
// kube-controller-manager does (NamespaceContentRemaining,
// NamespaceFinalizersRemaining, ...), waits for the contents' finalizers, and
// once the namespace is empty removes its `kubernetes` finalizer
// (spec.finalizers), upon which the Namespace goes unless other finalizers
// still hold it.
//
// NodeLifecycleController: marks the Node objects whose kubelet (here: the
// embedded node) stopped posting status Unknown, as the node lifecycle
// controller does after its grace period.
//
// Thread-safety: driven by ControllerManager's one thread.
#pragma once

#include <set>
#include <string>

#include "controllers.h"

namespace stash::api {

class NamespaceController final : public Controller {
 public:
  explicit NamespaceController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "ns"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& name) override;
  void Tick() override;

 private:
  ControllerContext& ctx_;
  std::set<std::string> terminating_;
};

class NodeLifecycleController final : public Controller {
 public:
  explicit NodeLifecycleController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "node"; }
  void OnEvent(const WatchEvent&) override {}
  void Process(const std::string&) override {}
  void Tick() override;

 private:
  ControllerContext& ctx_;
  int ticks_ = 0;
};

}  // namespace stash::api
