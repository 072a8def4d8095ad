// Store: the API server's durable object store, SQLite in WAL mode with
// synchronous=FULL, so a write is on disk before it is acknowledged and
// survives kill -9. It keeps every object in memory as well (reads never touch
// SQLite), a global, monotonically increasing resourceVersion, and a bounded
// log of recent changes from which watches start or resume (also across
// restarts); a watch from before the log's start gets kExpired-style
// FailedPrecondition so the server can answer 410 Gone.
//
// The change log is compacted as etcd is under kube-apiserver: Compact(rv)
// drops history up to rv (the server calls it every compaction interval with
// the resourceVersion of the previous tick), and the log never holds more
// than StoreOptions::log_keep events or log_bytes of them, whatever the
// traffic, so memory does not grow with history. Compaction also scrubs the
// file: SQLite's secure_delete zeroes deleted rows, and the WAL is truncated,
// so a deleted object's bytes are gone from the data directory.
//
// Values of the resources a ValueTransformer applies to (Secrets, see
// encryption.h) are stored transformed (encrypted) in both tables; rows
// written before the transformer existed are rewritten at Open. The database
// files are created 0600.
//
// Objects are addressed by (resource, namespace, name), where resource is the
// "group/plural" key of the resource registry ("" namespace for cluster-scoped).
// An object over kMaxObjectBytes stored or nested deeper than kMaxDepth
// (decode.h) is refused (kResourceExhausted / kInvalid).
//
// Writes are committed in groups, as etcd batches its raft entries: a write
// is decided (its mutation function run, its resourceVersion assigned) in
// order under one lock, then waits for a commit; the first waiter commits
// every write decided so far in one SQLite transaction, one fsync, while the
// writes that arrive meanwhile queue for the next. A write is acknowledged,
// visible to readers and delivered to watchers only once its transaction is
// durable; later writes' mutation functions see it already. A commit that
// fails fails its writes and every write decided after them.
//
// Thread-safety: all methods are thread-safe. Writes are decided one at a
// time; reads run concurrently with each other and with commits (fsync).
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
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

using json = nlohmann::json;

enum class EventType { kAdded, kModified, kDeleted };
std::string EventTypeName(EventType type);

// An event is shared (never copied) between the log and every watcher.
struct WatchEvent {
  EventType type;
  uint64_t rv;
  std::string resource;
  std::string ns;
  std::shared_ptr<const json> object;
  // For live MODIFIED events: the object before the change, so selector
  // watches can turn "stopped matching" into DELETED (null in replays).
  std::shared_ptr<const json> previous;
  size_t bytes = 0;  // stored size, for the log's byte bound
};

// One watch's queue of events, fed by the store. A watcher that falls more
// than kMaxQueued events behind is closed (as kube-apiserver drops a slow
// watcher); its client resumes from the last resourceVersion it saw.
class Watcher {
 public:
  static constexpr size_t kMaxQueued = 20000;

  Watcher(std::string resource, std::string ns)
      : resource_(std::move(resource)), ns_(std::move(ns)) {}
  // Waits until an event is queued, the deadline passes or Close() is called;
  // nullopt in the last two cases.
  std::optional<WatchEvent> Next(std::chrono::steady_clock::time_point deadline);
  void Close();
  bool closed();
  bool Matches(const std::string& resource, const std::string& ns) const {
    return (resource_.empty() || resource == resource_) && (ns_.empty() || ns == ns_);
  }
  void Push(const WatchEvent& event);
  // Called (without locks held) whenever an event is queued or the watcher
  // closes, so an event loop can wait without a thread.
  void SetNotify(std::function<void()> notify);

 private:
  void Notify();

  const std::string resource_;
  const std::string ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_;
  bool closed_ = false;
  std::function<void()> notify_;
};

// Turns stored values into what the database holds and back (encryption at
// rest, see encryption.h). Called with the store's write lock held.
class ValueTransformer {
 public:
  virtual ~ValueTransformer() = default;
  // True when values of `resource` ("group/plural") are transformed.
  virtual bool Applies(const std::string& resource) const = 0;
  // `context` names the row; the transformed value is bound to it.
  virtual Result<std::string> ToStorage(const std::string& resource, std::string_view value,
                                        std::string_view context) = 0;
  // The value back. *stale is set when it is not stored the way ToStorage
  // would store it now (plain JSON from before the transformer, an older
  // key); one that cannot be read back is kDataLoss.
  virtual Result<std::string> FromStorage(const std::string& resource, std::string_view stored,
                                          std::string_view context, bool* stale) = 0;
};

struct StoreOptions {
  size_t log_keep = 10000;                  // events the change log keeps at most
  size_t log_bytes = 64 << 20;              // stored bytes the change log keeps at most
  ValueTransformer* transformer = nullptr;  // not owned; outlives the store
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
  // Opens or creates the database at `path` (mode 0600).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, StoreOptions options);
  // Keeps the last `log_keep` changes for watches.
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

  // Starts a watch of `resource` ("" = every resource) in `ns` ("" = all).
  // from_rv 0 means "from
  // now"; otherwise every change after from_rv is queued first.
  // FailedPrecondition when from_rv is older than the retained log.
  Result<std::shared_ptr<Watcher>> Watch(const std::string& resource, const std::string& ns,
                                         uint64_t from_rv);
  void Unwatch(const std::shared_ptr<Watcher>& watcher);
  // Closes every watcher (server shutdown).
  void CloseWatchers();

  uint64_t CurrentRv();
  // Changes at or below this resourceVersion are gone from the log.
  uint64_t CompactedRv();
  // Drops the change log up to `rv` (capped at the current one) and scrubs
  // the database file of the dropped and deleted data.
  Status Compact(uint64_t rv);
  // Events and stored bytes the change log holds now.
  std::pair<size_t, size_t> LogSize();

  // Called after every committed write, in commit order, before the write is
  // answered and while later commits wait (so a follower such as the RBAC
  // index is never behind an answered request). A hook must be quick and must not write to the
  // store. Add hooks before the store is shared between threads.
  using WriteHook = std::function<void(EventType type, const std::string& resource,
                                       const std::string& ns, const json& object)>;
  void AddWriteHook(WriteHook hook) { hooks_.push_back(std::move(hook)); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  Store(sqlite3* db, StoreOptions options) : db_(db), options_(options) {}
  Status Load();
  Status LoadObjects();
  Status LoadLog();
  Status EncryptStaleRows();
  // A decided write waiting for its group commit.
  struct PendingWrite {
    Key key;
    EventType type;
    uint64_t rv;
    std::string object_row;  // as stored (transformed); unused for a delete
    std::string change_row;
    std::shared_ptr<const json> object;    // stored object or final state
    std::shared_ptr<const json> previous;  // for kModified: the object before
    size_t bytes = 0;
    bool done = false;  // guarded by commit_mu_
    Status status;      // guarded by commit_mu_
  };
  using PendingPtr = std::shared_ptr<PendingWrite>;

  Status Exec(const char* sql);
  // Waits until `write` is committed: by an earlier waiter's group commit,
  // or by this one, which then commits every write queued so far.
  Status CommitGroup(const PendingPtr& write);
  // With commit_mu_ held: the rows of `batch` in one transaction.
  Status WriteRows(const std::vector<PendingPtr>& batch);
  // With commit_mu_ held: a committed batch into memory, the watches, the
  // log and the hooks, in resourceVersion order.
  void Apply(const std::vector<PendingPtr>& batch);
  // Text of a row as stored: transformed for the resources that need it.
  Result<std::string> ToStorage(const std::string& resource, const std::string& text,
                                const std::string& context);
  Result<std::string> FromStorage(const std::string& resource, std::string stored,
                                  const std::string& context, bool* stale);
  // With write_mu_ held: deletes changes up to `cut` and trims the log.
  Status DropChanges(uint64_t cut, bool scrub);
  Status Scrub();

  sqlite3* db_;
  const StoreOptions options_;
  std::mutex commit_mu_;  // one commit (or compaction) at a time; guards the SQLite handle
  std::mutex write_mu_;   // serialises deciding writes; guards the three below
  std::vector<PendingPtr> queued_;         // decided, not yet taken by a commit
  std::map<Key, PendingPtr> uncommitted_;  // the newest uncommitted write of a key
  uint64_t decided_rv_ = 0;                // the last resourceVersion handed out
  std::shared_mutex mu_;                   // guards everything below
  std::map<Key, std::shared_ptr<const json>> objects_;
  uint64_t rv_ = 0;
  uint64_t compacted_rv_ = 0;  // changes at or below this rv are gone from the log
  std::deque<WatchEvent> log_;
  size_t log_bytes_ = 0;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  std::vector<WriteHook> hooks_;
  bool stale_rows_ = false;  // rows to rewrite through the transformer
};

}  // namespace stash::api
