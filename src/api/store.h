// Store: the API server's durable object store, SQLite in WAL mode with
// synchronous=FULL, so a write is on disk before it is acknowledged and
// survives kill -9. It keeps every object in memory as well (reads never touch
// SQLite), a global, monotonically increasing resourceVersion, and a bounded
// log of recent changes from which watches start or resume (also across
// restarts); a watch from before the log's start gets kExpired-style
// FailedPrecondition so the server can answer 410 Gone.
//
// Objects are addressed by (resource, namespace, name), where resource is the
// "group/plural" key of the resource registry ("" namespace for cluster-scoped).
//
// Thread-safety: all methods are thread-safe. Writes are serialised; reads run
// concurrently with each other and with the slow part (fsync) of a write.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

using json = nlohmann::json;

enum class EventType { kAdded, kModified, kDeleted };
std::string EventTypeName(EventType type);

struct WatchEvent {
  EventType type;
  uint64_t rv;
  std::string resource;
  std::string ns;
  json object;
  // For live MODIFIED events: the object before the change, so selector
  // watches can turn "stopped matching" into DELETED (null in replays).
  std::shared_ptr<const json> previous;
};

// One watch's queue of events, fed by the store.
class Watcher {
 public:
  Watcher(std::string resource, std::string ns)
      : resource_(std::move(resource)), ns_(std::move(ns)) {}
  // Waits until an event is queued, the deadline passes or Close() is called;
  // nullopt in the last two cases.
  std::optional<WatchEvent> Next(std::chrono::steady_clock::time_point deadline);
  void Close();
  bool closed();
  bool Matches(const std::string& resource, const std::string& ns) const {
    return resource == resource_ && (ns_.empty() || ns == ns_);
  }
  void Push(WatchEvent event);

 private:
  const std::string resource_;
  const std::string ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_;
  bool closed_ = false;
};

// What a mutation function decides for the object it was shown.
struct Mutation {
  enum Kind { kPut, kDelete, kNoop };
  Kind kind = kNoop;
  json object;  // the new object (kPut) or the final state (kDelete)

  static Mutation Put(json o) { return {kPut, std::move(o)}; }
  static Mutation Delete(json o) { return {kDelete, std::move(o)}; }
  static Mutation Noop() { return {kNoop, json()}; }
};
// Receives the current object, or nullptr when it does not exist.
using MutateFn = std::function<Result<Mutation>(const json* current)>;

struct MutateResult {
  Mutation::Kind kind;
  bool created;  // kPut of an object that did not exist
  json object;   // stored object (kPut), final state (kDelete), current (kNoop)
};

class Store {
 public:
  // Opens or creates the database at `path`; keeps the last `log_keep` changes
  // for watches.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, size_t log_keep = 10000);
  ~Store();

  std::optional<json> Get(const std::string& resource, const std::string& ns,
                          const std::string& name);
  // All objects of `resource` in `ns` ("" = every namespace), sorted by
  // namespace and name; *rv receives the store's resourceVersion at that moment.
  std::vector<json> List(const std::string& resource, const std::string& ns, uint64_t* rv);

  // Runs `fn` under the write lock and applies its decision. A kPut or kDelete
  // gets the next resourceVersion (stamped into metadata.resourceVersion),
  // is committed durably, then delivered to watchers. With dry_run nothing is
  // stored and the object keeps its resourceVersion.
  Result<MutateResult> Mutate(const std::string& resource, const std::string& ns,
                              const std::string& name, const MutateFn& fn, bool dry_run = false);

  // Starts a watch of `resource` in `ns` ("" = all). from_rv 0 means "from
  // now"; otherwise every change after from_rv is queued first.
  // FailedPrecondition when from_rv is older than the retained log.
  Result<std::shared_ptr<Watcher>> Watch(const std::string& resource, const std::string& ns,
                                         uint64_t from_rv);
  void Unwatch(const std::shared_ptr<Watcher>& watcher);
  // Closes every watcher (server shutdown).
  void CloseWatchers();

  uint64_t CurrentRv();

  // Called after every committed write, in commit order, while later writes
  // wait (so a follower such as the RBAC index is never behind an answered
  // request). A hook must be quick and must not write to the store. Add hooks
  // before the store is shared between threads.
  using WriteHook = std::function<void(EventType type, const std::string& resource,
                                       const std::string& ns, const json& object)>;
  void AddWriteHook(WriteHook hook) { hooks_.push_back(std::move(hook)); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  Store(sqlite3* db, size_t log_keep) : db_(db), log_keep_(log_keep) {}
  Status Load();
  Status Exec(const char* sql);
  Status Commit(const Key& key, EventType type, const json& object, uint64_t rv);

  sqlite3* db_;
  const size_t log_keep_;
  std::mutex write_mu_;   // serialises writers; guards the SQLite handle
  std::shared_mutex mu_;  // guards everything below
  std::map<Key, json> objects_;
  uint64_t rv_ = 0;
  uint64_t compacted_rv_ = 0;  // changes at or below this rv are gone from the log
  std::deque<WatchEvent> log_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  uint64_t writes_since_prune_ = 0;
  std::vector<WriteHook> hooks_;
};

}  // namespace stash::api
