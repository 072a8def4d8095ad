#include "store.h"

#include <spdlog/spdlog.h>

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
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool Watcher::closed() {
  std::lock_guard lock(mu_);
  return closed_;
}

void Watcher::Push(WatchEvent event) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(event));
  cv_.notify_all();
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

std::string ColText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, sqlite3_column_bytes(s, i)) : std::string();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, size_t log_keep) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status s = InternalError("opening API server database " + path + ": " +
                             (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<Store> store(new Store(db, log_keep));
  STASH_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  STASH_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
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
  {
    Stmt st;
    sqlite3_prepare_v2(db_, "SELECT resource, ns, name, object FROM objects", -1, &st.s, nullptr);
    while (sqlite3_step(st.s) == SQLITE_ROW) {
      json obj = json::parse(ColText(st.s, 3), nullptr, false);
      if (obj.is_discarded()) return DataLossError("API server store: unreadable object row");
      objects_[{ColText(st.s, 0), ColText(st.s, 1), ColText(st.s, 2)}] = std::move(obj);
    }
  }
  Stmt st;
  sqlite3_prepare_v2(db_, "SELECT rv, resource, ns, type, object FROM changes ORDER BY rv", -1,
                     &st.s, nullptr);
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    WatchEvent e;
    e.rv = static_cast<uint64_t>(sqlite3_column_int64(st.s, 0));
    e.resource = ColText(st.s, 1);
    e.ns = ColText(st.s, 2);
    e.type = static_cast<EventType>(sqlite3_column_int(st.s, 3));
    e.object = json::parse(ColText(st.s, 4), nullptr, false);
    if (e.rv <= compacted_rv_) continue;
    log_.push_back(std::move(e));
  }
  if (!log_.empty() && log_.back().rv > rv_) rv_ = log_.back().rv;
  spdlog::info("API store: {} objects, resourceVersion {}, {} changes retained", objects_.size(),
               rv_, log_.size());
  return Status::Ok();
}

std::optional<json> Store::Get(const std::string& resource, const std::string& ns,
                               const std::string& name) {
  std::shared_lock lock(mu_);
  auto it = objects_.find({resource, ns, name});
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Store::List(const std::string& resource, const std::string& ns, uint64_t* rv) {
  std::shared_lock lock(mu_);
  std::vector<json> out;
  for (auto it = objects_.lower_bound({resource, ns, ""});
       it != objects_.end() && std::get<0>(it->first) == resource; ++it) {
    if (!ns.empty() && std::get<1>(it->first) != ns) break;
    out.push_back(it->second);
  }
  if (rv) *rv = rv_;
  return out;
}

uint64_t Store::CurrentRv() {
  std::shared_lock lock(mu_);
  return rv_;
}

Status Store::Commit(const Key& key, EventType type, const json& object, uint64_t rv) {
  const auto& [resource, ns, name] = key;
  STASH_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](std::string_view what) {
    Status s = SqlError(db_, what);
    Exec("ROLLBACK").IgnoreError();
    return s;
  };
  std::string text = object.dump();
  {
    Stmt st;
    if (type == EventType::kDeleted) {
      sqlite3_prepare_v2(db_, "DELETE FROM objects WHERE resource=? AND ns=? AND name=?", -1, &st.s,
                         nullptr);
    } else {
      sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO objects VALUES (?,?,?,?)", -1, &st.s,
                         nullptr);
      BindText(st.s, 4, text);
    }
    BindText(st.s, 1, resource);
    BindText(st.s, 2, ns);
    BindText(st.s, 3, name);
    if (sqlite3_step(st.s) != SQLITE_DONE) return fail("writing object");
  }
  {
    Stmt st;
    sqlite3_prepare_v2(db_, "INSERT INTO changes VALUES (?,?,?,?,?)", -1, &st.s, nullptr);
    sqlite3_bind_int64(st.s, 1, static_cast<int64_t>(rv));
    BindText(st.s, 2, resource);
    BindText(st.s, 3, ns);
    sqlite3_bind_int(st.s, 4, static_cast<int>(type));
    BindText(st.s, 5, text);
    if (sqlite3_step(st.s) != SQLITE_DONE) return fail("logging change");
  }
  {
    Stmt st;
    sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta VALUES ('rv', ?)", -1, &st.s, nullptr);
    sqlite3_bind_int64(st.s, 1, static_cast<int64_t>(rv));
    if (sqlite3_step(st.s) != SQLITE_DONE) return fail("saving resourceVersion");
  }
  // Prune the change log in batches; a watch from before the cut gets 410.
  if (++writes_since_prune_ >= 256 && log_.size() > log_keep_) {
    writes_since_prune_ = 0;
    uint64_t cut = log_[log_.size() - log_keep_].rv - 1;
    Stmt del, meta;
    sqlite3_prepare_v2(db_, "DELETE FROM changes WHERE rv<=?", -1, &del.s, nullptr);
    sqlite3_bind_int64(del.s, 1, static_cast<int64_t>(cut));
    sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta VALUES ('compacted', ?)", -1, &meta.s,
                       nullptr);
    sqlite3_bind_int64(meta.s, 1, static_cast<int64_t>(cut));
    if (sqlite3_step(del.s) != SQLITE_DONE || sqlite3_step(meta.s) != SQLITE_DONE) {
      return fail("pruning change log");
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail("committing");
  }
  return Status::Ok();
}

Result<MutateResult> Store::Mutate(const std::string& resource, const std::string& ns,
                                   const std::string& name, const MutateFn& fn, bool dry_run) {
  std::lock_guard wlock(write_mu_);
  Key key{resource, ns, name};
  // Only writers change objects_, and we are the only writer: reading it
  // without mu_ is safe.
  auto it = objects_.find(key);
  const json* current = it == objects_.end() ? nullptr : &it->second;
  STASH_ASSIGN_OR_RETURN(Mutation m, fn(current));
  MutateResult result{m.kind, current == nullptr && m.kind == Mutation::kPut, json()};
  if (m.kind == Mutation::kNoop) {
    if (current) result.object = *current;
    return result;
  }
  if (m.kind == Mutation::kDelete && current == nullptr) {
    return InternalError("API store: delete of missing object " + name);
  }
  if (dry_run) {
    result.object = std::move(m.object);
    return result;
  }
  uint64_t rv = CurrentRv() + 1;
  m.object["metadata"]["resourceVersion"] = std::to_string(rv);
  EventType type = m.kind == Mutation::kDelete ? EventType::kDeleted
                   : current == nullptr        ? EventType::kAdded
                                               : EventType::kModified;
  STASH_RETURN_IF_ERROR(Commit(key, type, m.object, rv));
  WatchEvent event{type, rv, resource, ns, m.object, nullptr};
  if (type == EventType::kModified) event.previous = std::make_shared<const json>(*current);
  std::unique_lock lock(mu_);
  rv_ = rv;
  if (type == EventType::kDeleted) {
    objects_.erase(key);
  } else {
    objects_[key] = m.object;
  }
  for (auto& w : watchers_) {
    if (w->Matches(resource, ns)) w->Push(event);
  }
  event.previous.reset();
  log_.push_back(std::move(event));
  if (writes_since_prune_ == 0 && log_.size() > log_keep_) {
    size_t drop = log_.size() - log_keep_;
    compacted_rv_ = log_[drop - 1].rv;
    log_.erase(log_.begin(), log_.begin() + static_cast<long>(drop));
  }
  lock.unlock();
  result.object = std::move(m.object);
  for (const WriteHook& hook : hooks_) hook(type, resource, ns, result.object);
  return result;
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
  std::unique_lock lock(mu_);
  for (auto& w : watchers_) w->Close();
  watchers_.clear();
}

}  // namespace stash::api
