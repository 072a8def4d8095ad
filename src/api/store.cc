#include "store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "decode.h"

namespace stash::api {

std::string EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

std::optional<WatchEvent> Watcher::Next(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty() || closed_) return std::nullopt;
  WatchEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

void Watcher::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    cv_.notify_all();
  }
  Notify();
}

bool Watcher::closed() {
  std::lock_guard lock(mu_);
  return closed_;
}

void Watcher::Push(const WatchEvent& event) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (queue_.size() >= kMaxQueued) {
      // Too slow a reader: end the watch rather than queue without bound.
      queue_.clear();
      closed_ = true;
    } else {
      queue_.push_back(event);
    }
    cv_.notify_all();
  }
  Notify();
}

void Watcher::SetNotify(std::function<void()> notify) {
  {
    std::lock_guard lock(mu_);
    notify_ = std::move(notify);
  }
  Notify();  // whatever is queued already
}

void Watcher::Notify() {
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    notify = notify_;
  }
  if (notify) notify();
}

namespace {

// Finalizes a prepared statement when it goes out of scope.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

Status SqlError(sqlite3* db, std::string_view what) {
  return InternalError("API server store: " + std::string(what) + ": " + sqlite3_errmsg(db) +
                       " (check the data directory's disk space and permissions)");
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

void BindBlob(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string ColText(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

std::string ObjectContext(const std::string& resource, const std::string& ns,
                          const std::string& name) {
  return "objects/" + resource + "/" + ns + "/" + name;
}

std::string ChangeContext(uint64_t rv, const std::string& resource, const std::string& ns) {
  return "changes/" + std::to_string(rv) + "/" + resource + "/" + ns;
}

// The database and its WAL and shared-memory files are the server's alone.
Status PrepareFiles(const std::string& path, bool* created) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    *created = true;  // SQLite's own names: nothing on disk to prepare
    return Status::Ok();
  }
  struct stat st {};
  *created = ::stat(path.c_str(), &st) != 0 || st.st_size == 0;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, "creating API server database " + path);
  ::fchmod(fd, 0600);
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    ::chmod((path + suffix).c_str(), 0600);  // SQLite creates them with the database's mode
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, size_t log_keep) {
  StoreOptions options;
  options.log_keep = log_keep;
  return Open(path, options);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
  bool created = false;
  STASH_RETURN_IF_ERROR(PrepareFiles(path, &created));
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status s = InternalError("opening API server database " + path + ": " +
                             (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<Store> store(new Store(db, options));
  // Freed pages are zeroed (deleted Secrets and objects leave no bytes
  // behind); a new database also returns them to the file system.
  if (created) STASH_RETURN_IF_ERROR(store->Exec("PRAGMA auto_vacuum=INCREMENTAL"));
  STASH_RETURN_IF_ERROR(store->Exec("PRAGMA secure_delete=ON"));
  STASH_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  STASH_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  STASH_RETURN_IF_ERROR(store->Exec("PRAGMA journal_size_limit=8388608"));
  STASH_RETURN_IF_ERROR(store->Exec(
      "CREATE TABLE IF NOT EXISTS objects (resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT "
      "NOT NULL, object TEXT NOT NULL, PRIMARY KEY (resource, ns, name));"
      "CREATE TABLE IF NOT EXISTS changes (rv INTEGER PRIMARY KEY, resource TEXT NOT NULL, ns "
      "TEXT NOT NULL, type INTEGER NOT NULL, object TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"));
  STASH_RETURN_IF_ERROR(store->Load());
  return store;
}

Store::~Store() {
  CloseWatchers();
  sqlite3_close(db_);
}

Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return InternalError("API server store: " + msg +
                         " (running: " + std::string(sql).substr(0, 60) + ")");
  }
  return Status::Ok();
}

Result<std::string> Store::ToStorage(const std::string& resource, const std::string& text,
                                     const std::string& context) {
  if (!options_.transformer || !options_.transformer->Applies(resource)) return text;
  return options_.transformer->ToStorage(resource, text, context);
}

Result<std::string> Store::FromStorage(const std::string& resource, std::string stored,
                                       const std::string& context, bool* stale) {
  *stale = false;
  if (!options_.transformer) return stored;
  return options_.transformer->FromStorage(resource, stored, context, stale);
}

Status Store::Load() {
  {
    Stmt st;
    sqlite3_prepare_v2(db_, "SELECT key, value FROM meta", -1, &st.s, nullptr);
    while (sqlite3_step(st.s) == SQLITE_ROW) {
      std::string key = ColText(st.s, 0);
      uint64_t v = static_cast<uint64_t>(sqlite3_column_int64(st.s, 1));
      if (key == "rv") rv_ = v;
      if (key == "compacted") compacted_rv_ = v;
    }
  }
  STASH_RETURN_IF_ERROR(LoadObjects());
  STASH_RETURN_IF_ERROR(LoadLog());
  if (stale_rows_) STASH_RETURN_IF_ERROR(EncryptStaleRows());
  spdlog::info("API store: {} objects, resourceVersion {}, {} changes retained", objects_.size(),
               rv_, log_.size());
  return Status::Ok();
}

Status Store::LoadObjects() {
  Stmt st;
  sqlite3_prepare_v2(db_, "SELECT resource, ns, name, object FROM objects", -1, &st.s, nullptr);
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    Key key{ColText(st.s, 0), ColText(st.s, 1), ColText(st.s, 2)};
    const auto& [resource, ns, name] = key;
    bool stale = false;
    auto text = FromStorage(resource, ColText(st.s, 3), ObjectContext(resource, ns, name), &stale);
    if (!text.ok())
      return Status(text.status()).Prepend("API server store: " + resource + " " + name);
    stale_rows_ |= stale;
    json obj = json::parse(*text, nullptr, false);
    if (obj.is_discarded()) return DataLossError("API server store: unreadable object row");
    objects_[key] = std::make_shared<const json>(std::move(obj));
  }
  return Status::Ok();
}

// The newest changes, as many as the log's bounds allow; older rows (a
// database from before the bounds, or one that grew while compaction was
// off) are dropped here instead of filling memory.
Status Store::LoadLog() {
  Stmt st;
  sqlite3_prepare_v2(db_,
                     "SELECT rv, resource, ns, type, object FROM changes WHERE rv > ? ORDER BY "
                     "rv DESC",
                     -1, &st.s, nullptr);
  sqlite3_bind_int64(st.s, 1, static_cast<int64_t>(compacted_rv_));
  std::vector<WatchEvent> newest_first;
  size_t bytes = 0;
  uint64_t cut = 0;
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    WatchEvent e;
    e.rv = static_cast<uint64_t>(sqlite3_column_int64(st.s, 0));
    e.resource = ColText(st.s, 1);
    e.ns = ColText(st.s, 2);
    std::string stored = ColText(st.s, 4);
    if (newest_first.size() >= options_.log_keep || bytes + stored.size() > options_.log_bytes) {
      cut = e.rv;
      break;
    }
    e.type = static_cast<EventType>(sqlite3_column_int(st.s, 3));
    bool stale = false;
    auto text =
        FromStorage(e.resource, std::move(stored), ChangeContext(e.rv, e.resource, e.ns), &stale);
    if (!text.ok())
      return Status(text.status()).Prepend("API server store: change " + std::to_string(e.rv));
    stale_rows_ |= stale;
    e.bytes = text->size();
    bytes += e.bytes;
    e.object = std::make_shared<const json>(json::parse(*text, nullptr, false));
    newest_first.push_back(std::move(e));
  }
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    log_bytes_ += it->bytes;
    log_.push_back(std::move(*it));
  }
  if (!log_.empty() && log_.back().rv > rv_) rv_ = log_.back().rv;
  if (cut > 0) {
    std::lock_guard clock(commit_mu_);
    STASH_RETURN_IF_ERROR(DropChanges(cut, /*scrub=*/true));
  }
  return Status::Ok();
}

// Rows written before encryption was configured are rewritten encrypted;
// VACUUM then rebuilds the file so no page keeps the plaintext.
Status Store::EncryptStaleRows() {
  std::lock_guard clock(commit_mu_);
  STASH_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](std::string_view what) {
    Status s = SqlError(db_, what);
    Exec("ROLLBACK").IgnoreError();
    return s;
  };
  size_t rewritten = 0;
  for (const auto& [key, obj] : objects_) {
    const auto& [resource, ns, name] = key;
    if (!options_.transformer->Applies(resource)) continue;
    auto stored = ToStorage(resource, DumpJson(*obj), ObjectContext(resource, ns, name));
    if (!stored.ok()) return stored.status();
    Stmt st;
    sqlite3_prepare_v2(db_, "UPDATE objects SET object=? WHERE resource=? AND ns=? AND name=?", -1,
                       &st.s, nullptr);
    BindBlob(st.s, 1, *stored);
    BindText(st.s, 2, resource);
    BindText(st.s, 3, ns);
    BindText(st.s, 4, name);
    if (sqlite3_step(st.s) != SQLITE_DONE) return fail("encrypting stored objects");
    ++rewritten;
  }
  for (const WatchEvent& e : log_) {
    if (!options_.transformer->Applies(e.resource)) continue;
    auto stored = ToStorage(e.resource, DumpJson(*e.object), ChangeContext(e.rv, e.resource, e.ns));
    if (!stored.ok()) return stored.status();
    Stmt st;
    sqlite3_prepare_v2(db_, "UPDATE changes SET object=? WHERE rv=?", -1, &st.s, nullptr);
    BindBlob(st.s, 1, *stored);
    sqlite3_bind_int64(st.s, 2, static_cast<int64_t>(e.rv));
    if (sqlite3_step(st.s) != SQLITE_DONE) return fail("encrypting the change log");
    ++rewritten;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail("committing");
  }
  STASH_RETURN_IF_ERROR(Exec("VACUUM"));
  STASH_RETURN_IF_ERROR(Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  spdlog::info("API store: {} rows written before encryption at rest are now encrypted", rewritten);
  stale_rows_ = false;
  return Status::Ok();
}

std::optional<json> Store::Get(const std::string& resource, const std::string& ns,
                               const std::string& name) {
  std::shared_lock lock(mu_);
  auto it = objects_.find({resource, ns, name});
  if (it == objects_.end()) return std::nullopt;
  return *it->second;
}

std::vector<json> Store::List(const std::string& resource, const std::string& ns, uint64_t* rv) {
  std::shared_lock lock(mu_);
  std::vector<json> out;
  for (auto it = objects_.lower_bound({resource, ns, ""});
       it != objects_.end() && std::get<0>(it->first) == resource; ++it) {
    if (!ns.empty() && std::get<1>(it->first) != ns) break;
    out.push_back(*it->second);
  }
  if (rv) *rv = rv_;
  return out;
}

uint64_t Store::CurrentRv() {
  std::shared_lock lock(mu_);
  return rv_;
}

uint64_t Store::CompactedRv() {
  std::shared_lock lock(mu_);
  return compacted_rv_;
}

std::pair<size_t, size_t> Store::LogSize() {
  std::shared_lock lock(mu_);
  return {log_.size(), log_bytes_};
}

Status Store::WriteRows(const std::vector<PendingPtr>& batch) {
  STASH_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](std::string_view what) {
    Status s = SqlError(db_, what);
    Exec("ROLLBACK").IgnoreError();
    return s;
  };
  Stmt put, del, change, meta;
  sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO objects VALUES (?,?,?,?)", -1, &put.s, nullptr);
  sqlite3_prepare_v2(db_, "DELETE FROM objects WHERE resource=? AND ns=? AND name=?", -1, &del.s,
                     nullptr);
  sqlite3_prepare_v2(db_, "INSERT INTO changes VALUES (?,?,?,?,?)", -1, &change.s, nullptr);
  sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta VALUES ('rv', ?)", -1, &meta.s, nullptr);
  for (const PendingPtr& w : batch) {
    const auto& [resource, ns, name] = w->key;
    sqlite3_stmt* st = w->type == EventType::kDeleted ? del.s : put.s;
    sqlite3_reset(st);
    BindText(st, 1, resource);
    BindText(st, 2, ns);
    BindText(st, 3, name);
    if (w->type != EventType::kDeleted) BindBlob(st, 4, w->object_row);
    if (sqlite3_step(st) != SQLITE_DONE) return fail("writing object");
    sqlite3_reset(change.s);
    sqlite3_bind_int64(change.s, 1, static_cast<int64_t>(w->rv));
    BindText(change.s, 2, resource);
    BindText(change.s, 3, ns);
    sqlite3_bind_int(change.s, 4, static_cast<int>(w->type));
    BindBlob(change.s, 5, w->change_row);
    if (sqlite3_step(change.s) != SQLITE_DONE) return fail("logging change");
  }
  sqlite3_bind_int64(meta.s, 1, static_cast<int64_t>(batch.back()->rv));
  if (sqlite3_step(meta.s) != SQLITE_DONE) return fail("saving resourceVersion");
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail("committing");
  }
  return Status::Ok();
}

Status Store::DropChanges(uint64_t cut, bool scrub) {
  if (cut > compacted_rv_) {
    STASH_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Stmt del, meta;
    sqlite3_prepare_v2(db_, "DELETE FROM changes WHERE rv<=?", -1, &del.s, nullptr);
    sqlite3_bind_int64(del.s, 1, static_cast<int64_t>(cut));
    sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta VALUES ('compacted', ?)", -1, &meta.s,
                       nullptr);
    sqlite3_bind_int64(meta.s, 1, static_cast<int64_t>(cut));
    if (sqlite3_step(del.s) != SQLITE_DONE || sqlite3_step(meta.s) != SQLITE_DONE ||
        sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Status s = SqlError(db_, "compacting the change log");
      Exec("ROLLBACK").IgnoreError();
      return s;
    }
    std::unique_lock lock(mu_);
    while (!log_.empty() && log_.front().rv <= cut) {
      log_bytes_ -= log_.front().bytes;
      log_.pop_front();
    }
    compacted_rv_ = cut;
  }
  return scrub ? Scrub() : Status::Ok();
}

// Gives freed pages back to the file system and empties the WAL, whose old
// frames would otherwise still hold deleted rows.
Status Store::Scrub() {
  STASH_RETURN_IF_ERROR(Exec("PRAGMA incremental_vacuum"));
  return Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Status Store::Compact(uint64_t rv) {
  Status s;
  {
    std::lock_guard clock(commit_mu_);
    uint64_t cut = std::min(rv, CurrentRv());
    s = DropChanges(cut, /*scrub=*/true);
  }
#if defined(__GLIBC__)
  // The dropped events were the largest allocations; give the pages back so
  // the resident size follows the live data, not its high-water mark.
  malloc_trim(0);
#endif
  return s;
}

Result<MutateResult> Store::Mutate(const std::string& resource, const std::string& ns,
                                   const std::string& name, const MutateFn& fn, bool dry_run) {
  PendingPtr write;
  PendingPtr seen;  // the uncommitted write whose state fn was shown, if any
  auto decide = [&]() -> Result<MutateResult> {
    MutateResult result;
    std::lock_guard wlock(write_mu_);
    Key key{resource, ns, name};
    // The newest decided state of the object, committed or not.
    std::shared_ptr<const json> current;
    if (auto u = uncommitted_.find(key); u != uncommitted_.end()) {
      seen = u->second;
      if (u->second->type != EventType::kDeleted) current = u->second->object;
    } else {
      std::shared_lock lock(mu_);
      auto it = objects_.find(key);
      if (it != objects_.end()) current = it->second;
    }
    STASH_ASSIGN_OR_RETURN(Mutation m, fn(current.get()));
    result = {m.kind, current == nullptr && m.kind == Mutation::kPut, json()};
    if (m.kind == Mutation::kNoop) {
      if (current) result.object = *current;
      return result;
    }
    if (m.kind == Mutation::kDelete && current == nullptr) {
      return InternalError("API store: delete of missing object " + name);
    }
    if (m.kind == Mutation::kPut) {
      STASH_RETURN_IF_ERROR(CheckDepth(m.object, kMaxDepth, "the object"));
    }
    const uint64_t rv = std::max(decided_rv_, CurrentRv()) + 1;
    if (!dry_run) m.object["metadata"]["resourceVersion"] = std::to_string(rv);
    std::string text = DumpJson(m.object);
    if (m.kind == Mutation::kPut && text.size() > kMaxObjectBytes) {
      return ResourceExhaustedError(
          "Request entity too large: the object would be stored as " + std::to_string(text.size()) +
          " bytes, more than this server's limit of " + std::to_string(kMaxObjectBytes) +
          " (etcd's default --max-request-bytes)");
    }
    if (dry_run) {
      result.object = std::move(m.object);
      return result;
    }
    auto w = std::make_shared<PendingWrite>();
    w->key = key;
    w->type = m.kind == Mutation::kDelete ? EventType::kDeleted
              : current == nullptr        ? EventType::kAdded
                                          : EventType::kModified;
    w->rv = rv;
    if (w->type != EventType::kDeleted) {
      STASH_ASSIGN_OR_RETURN(w->object_row,
                             ToStorage(resource, text, ObjectContext(resource, ns, name)));
    }
    STASH_ASSIGN_OR_RETURN(w->change_row,
                           ToStorage(resource, text, ChangeContext(rv, resource, ns)));
    w->bytes = text.size();
    w->object = std::make_shared<const json>(std::move(m.object));
    if (w->type == EventType::kModified) w->previous = current;
    decided_rv_ = rv;
    queued_.push_back(w);
    write = w;
    uncommitted_[key] = w;
    return result;
  };
  Result<MutateResult> result = decide();
  if (!write) {
    // Answered from what fn was shown (a conflict, a no-op): not before that
    // is durable, so the caller's next read sees what it was answered from.
    if (seen) STASH_RETURN_IF_ERROR(CommitGroup(seen));
    return result;
  }
  STASH_RETURN_IF_ERROR(CommitGroup(write));
  result->object = *write->object;
  return result;
}

Status Store::CommitGroup(const PendingPtr& write) {
  std::lock_guard clock(commit_mu_);
  if (write->done) return write->status;  // an earlier waiter committed it
  std::vector<PendingPtr> batch;
  {
    std::lock_guard wlock(write_mu_);
    batch.swap(queued_);
  }
  if (Status s = WriteRows(batch); !s.ok()) {
    // The writes decided since were decided on top of these: they fail too.
    std::lock_guard wlock(write_mu_);
    batch.insert(batch.end(), queued_.begin(), queued_.end());
    queued_.clear();
    uncommitted_.clear();
    decided_rv_ = 0;
    for (const PendingPtr& w : batch) {
      w->done = true;
      w->status = s;
    }
    return s;
  }
  Apply(batch);
  {
    std::lock_guard wlock(write_mu_);
    for (const PendingPtr& w : batch) {
      auto u = uncommitted_.find(w->key);
      if (u != uncommitted_.end() && u->second == w) uncommitted_.erase(u);
    }
  }
  for (const PendingPtr& w : batch) {
    w->done = true;
    w->object_row.clear();  // the rows are on disk; the writer needs only the object
    w->change_row.clear();
    w->previous.reset();
  }
  return Status::Ok();
}

void Store::Apply(const std::vector<PendingPtr>& batch) {
  bool over = false;
  {
    std::unique_lock lock(mu_);
    for (const PendingPtr& w : batch) {
      rv_ = w->rv;
      if (w->type == EventType::kDeleted) {
        objects_.erase(w->key);
      } else {
        objects_[w->key] = w->object;
      }
      const auto& [resource, ns, name] = w->key;
      WatchEvent event{w->type, w->rv, resource, ns, w->object, w->previous, w->bytes};
      for (auto& watcher : watchers_) {
        if (watcher->Matches(resource, ns)) watcher->Push(event);
      }
      event.previous.reset();
      log_bytes_ += event.bytes;
      log_.push_back(std::move(event));
    }
    over = log_.size() > options_.log_keep || log_bytes_ > options_.log_bytes;
  }
  if (over) {
    // Trim to 90% of the bounds, so the delete (and its fsync) is amortised
    // over many writes.
    uint64_t cut = 0;
    {
      std::shared_lock lock(mu_);
      size_t n = log_.size(), bytes = log_bytes_;
      for (const WatchEvent& e : log_) {
        if (n * 10 <= options_.log_keep * 9 && bytes * 10 <= options_.log_bytes * 9) break;
        cut = e.rv;
        --n;
        bytes -= e.bytes;
      }
    }
    if (Status s = DropChanges(cut, /*scrub=*/false); !s.ok()) {
      spdlog::warn("{}", s.message());  // the writes themselves are committed
    }
  }
  for (const PendingPtr& w : batch) {
    const auto& [resource, ns, name] = w->key;
    for (const WriteHook& hook : hooks_) hook(w->type, resource, ns, *w->object);
  }
}

Result<std::shared_ptr<Watcher>> Store::Watch(const std::string& resource, const std::string& ns,
                                              uint64_t from_rv) {
  auto w = std::make_shared<Watcher>(resource, ns);
  std::unique_lock lock(mu_);
  if (from_rv != 0 && from_rv < compacted_rv_) {
    return FailedPreconditionError("too old resource version: " + std::to_string(from_rv) + " (" +
                                   std::to_string(compacted_rv_ + 1) + ")");
  }
  if (from_rv != 0) {
    for (const WatchEvent& e : log_) {
      if (e.rv > from_rv && w->Matches(e.resource, e.ns)) w->Push(e);
    }
  }
  watchers_.push_back(w);
  return w;
}

void Store::Unwatch(const std::shared_ptr<Watcher>& watcher) {
  watcher->Close();
  std::unique_lock lock(mu_);
  std::erase(watchers_, watcher);
}

void Store::CloseWatchers() {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    std::unique_lock lock(mu_);
    watchers.swap(watchers_);
  }
  for (auto& w : watchers) w->Close();
}

}  // namespace stash::api
