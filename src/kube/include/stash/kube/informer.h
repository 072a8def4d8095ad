// Informer: keeps a local copy of one resource (in one namespace or all) up to
// date with list + watch, and calls a handler for every change. Watches
// resume from the last resourceVersion; a 410 (too old) re-lists; transport
// errors back off (1 s doubling to 30 s) and retry, so a restarted API server
// is picked up again.
//
// Thread-safety: Start/Stop from one owner thread; List/Get/synced from any
// thread. The handler runs on the informer's own thread, one call at a time.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::kube {

// Sleeps `d` on `clock` in short slices; returns false as soon as `stop` is set.
bool SleepUnlessStopped(Clock& clock, Duration d, const std::atomic<bool>& stop);

// "<namespace>/<name>" of an object's metadata ("/" when it has none); never
// throws on a malformed object.
std::string ObjectKey(const json& obj);

class Informer {
 public:
  // type is ADDED, MODIFIED or DELETED.
  using Handler = std::function<void(const std::string& type, const json& obj)>;

  Informer(const Client& client, Resource resource, std::string ns, ListOptions opts, Clock& clock,
           Handler handler);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();

  // True once the first list has been delivered.
  bool synced() const { return synced_.load(); }
  std::vector<json> List() const;
  // Calls fn for each cached object without copying them (under the cache's
  // lock: fn must be quick and must not call back into this informer).
  void ForEach(const std::function<void(const json&)>& fn) const;
  std::optional<json> Get(const std::string& ns, const std::string& name) const;

 private:
  void Run();
  Status ListOnce();
  void Deliver(const std::string& type, const json& obj);

  const Client& client_;
  const Resource resource_;
  const std::string ns_;
  const ListOptions opts_;
  Clock& clock_;
  Handler handler_;

  mutable std::mutex mu_;
  std::map<std::string, json> cache_;  // key "<ns>/<name>"
  std::string resource_version_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::thread thread_;
};

}  // namespace stash::kube
