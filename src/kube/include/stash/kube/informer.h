// Informer: follows one resource (in one namespace or all) with list + watch
// and calls a handler for every change, as client-go's reflector does. It
// keeps only each object's resourceVersion (to tell a re-list's changes and
// deletions); the objects themselves are cached, decoded, by the typed layer
// above (apis::Informer<T>). Watches resume from the last resourceVersion; a
// 410 (too old) re-lists; transport errors back off (1 s doubling to 30 s) and
// re-list, so a restarted API server is picked up again.
//
// An object that a re-list no longer shows is delivered as DELETED with only
// apiVersion, kind and metadata (namespace, name, resourceVersion).
//
// The informer retries every failure itself; error() tells its owner what
// the retries meet (a 401/403 after a Role lost a rule is not something a
// retry cures), so the owner can report it. A watch lasts ListOptions::
// timeout_seconds (0: 300 s) before it is renewed, the point where a server
// re-checks the caller's permissions.
//
// Thread-safety: Start/Stop from one owner thread; synced() and error() from
// any thread.
// The handler runs on the informer's own thread, one call at a time.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::kube {

// Sleeps `d` on `clock` in short slices; returns false as soon as `stop` is set.
bool SleepUnlessStopped(Clock& clock, Duration d, const std::atomic<bool>& stop);

// Joins `thread`, which sleeps on `clock` and has been told to stop: its
// sleeps are interrupted until `exited` is set (Interrupt() wakes only
// threads already asleep, and a ManualClock would never end a sleep itself).
void JoinWaking(Clock& clock, std::thread& thread, const std::atomic<bool>& exited);

// "<namespace>/<name>" of an object's metadata ("/" when it has none); never
// throws on a malformed object.
std::string ObjectKey(const json& obj);

class Informer {
 public:
  // type is ADDED, MODIFIED or DELETED; obj carries apiVersion and kind.
  using Handler = std::function<void(const std::string& type, const json& obj)>;

  Informer(const Client& client, Resource resource, std::string ns, ListOptions opts, Clock& clock,
           Handler handler);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  // Asks the thread to end without waiting: its watch is woken at once
  // (Client::WakeWatches). Stopping many informers, ask them all before
  // Stop()ping each, so that their ends overlap.
  void RequestStop();
  // RequestStop() and waits for the thread to end.
  void Stop();

  // True once the first list has been delivered.
  bool synced() const { return synced_.load(); }
  // Why the latest list or watch failed (its retry is under way); OK once a
  // list succeeded after it.
  Status error() const;
  const Resource& resource() const { return resource_; }

 private:
  void Run();
  Status ListOnce();
  void SetError(const Status& s);
  void Deliver(const std::string& type, const json& obj);

  const Client& client_;
  const Resource resource_;
  const std::string ns_;
  const ListOptions opts_;
  Clock& clock_;
  Handler handler_;

  std::map<std::string, std::string> versions_;  // key "<ns>/<name>" → resourceVersion
  mutable std::mutex mu_;                        // guards resource_version_, error_
  std::string resource_version_;
  Status error_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> exited_{false};
  std::thread thread_;
};

}  // namespace stash::kube
