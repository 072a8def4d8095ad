// The controllers kube-controller-manager runs, for the kinds this server
// stores, running in-process on the store's change stream: the garbage
// collector (gc.h), the namespace controller (namespace_controller.h), the
// volume controllers (volumes.h: binding, the default StorageClass's hostPath
// provisioner, reclaim, PVC/PV protection), the node lifecycle check, and the
// workload controllers and scheduler (workloads.h).
//
// They live beside the store rather than behind the HTTP API: they need every
// kind's changes (one watch of the whole store instead of an informer per
// kind), must write with the server's own deletion and finalizer rules
// (ApiHandler::DeleteWithOptions/ModifyObject), and are part of "the
// cluster" whether or not the operator runs.
//
// Thread-safety: ControllerManager is started and stopped from one thread;
// one worker thread runs every controller, so they need no locks of their own.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "handler.h"
#include "registry.h"
#include "stash/core/clock.h"
#include "store.h"

namespace stash::api {

struct ControllerOptions {
  // Where the default StorageClass's provisioner makes a directory per
  // PersistentVolumeClaim (<root>/<namespace>/<claim>); empty: no provisioner.
  std::string volume_root;
};

// An object's address in the store.
struct ObjectKey {
  std::string resource;  // Registry key, "group/plural"
  std::string ns;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
  std::string ToString() const { return resource + "|" + ns + "|" + name; }
  static std::optional<ObjectKey> Parse(const std::string& s);
};

// A de-duplicating queue of work items ("<controller>/<item>"), each due at a time.
class WorkItems {
 public:
  explicit WorkItems(Clock& clock) : clock_(clock) {}
  void Add(const std::string& item, Duration delay = Duration::zero());
  // The next due item, or nullopt.
  std::optional<std::string> PopDue();
  bool empty() const { return due_.empty(); }

 private:
  Clock& clock_;
  std::map<std::string, SystemTime> due_;
  std::set<std::pair<SystemTime, std::string>> order_;
};

// What every controller gets: the server's pieces and the shared queue.
struct ControllerContext {
  ControllerContext(Store& s, Registry& r, ApiHandler& h, Clock& c, WorkItems& q,
                    ControllerOptions o)
      : store(s), registry(r), handler(h), clock(c), queue(q), options(std::move(o)) {}

  Store& store;
  Registry& registry;
  ApiHandler& handler;
  Clock& clock;
  WorkItems& queue;
  ControllerOptions options;

  // The resource of an owner reference or a kind: by group (from apiVersion)
  // and kind; nullopt when the server does not serve it.
  std::optional<ResourceInfo> ResourceForKind(const std::string& api_version,
                                              const std::string& kind);
  std::optional<ResourceInfo> ResourceForKey(const std::string& key);
  // Every served resource once (preferred version), without schemas.
  const std::vector<ResourceInfo>& Resources();
  void ForgetResources() { resources_.clear(); }
  // Records a core/v1 Event about `obj`, as a controller's EventRecorder.
  void RecordEvent(const json& obj, const std::string& type, const std::string& reason,
                   const std::string& message, const std::string& component);

 private:
  std::vector<ResourceInfo> resources_;
  uint64_t events_ = 0;  // keeps event names unique within one clock tick
};

class Controller {
 public:
  virtual ~Controller() = default;
  // The queue prefix this controller owns ("gc", "ns", ...).
  virtual std::string prefix() const = 0;
  // Every change of the store, in order (and a synthetic ADDED per object at start).
  virtual void OnEvent(const WatchEvent& event) = 0;
  // One work item (without the prefix).
  virtual void Process(const std::string& item) = 0;
  // Called about once a second.
  virtual void Tick() {}
  // The manager stops: threads of the controller's own end here.
  virtual void Shutdown() {}
};

class ControllerManager {
 public:
  ControllerManager(Store& store, Registry& registry, ApiHandler& handler, Clock& clock,
                    ControllerOptions options);
  ~ControllerManager();

  // Indexes the store and (unless a test drives it with RunUntilIdle)
  // starts the worker thread.
  Status Start(bool run_thread = true);
  void Stop();
  // Tests: feeds pending changes and runs due work until none is left.
  void RunUntilIdle();

 private:
  void Loop();
  // (Re)starts the store watch and feeds every stored object as ADDED.
  Status Resync();
  void Dispatch(const WatchEvent& event);
  bool RunOne();

  WorkItems queue_;
  ControllerContext ctx_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::shared_ptr<Watcher> watcher_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stash::api
