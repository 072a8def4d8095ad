// Informer<T>: a typed, decoded cache of one resource kept current by a
// kube::Informer (list + watch), and a handler called for every change.
// Reconcilers read what they need from these caches instead of GETting it.
//
// An object the server holds but that does not decode (a builtin kind the
// server does not validate, e.g. a Deployment whose containers is not a
// list) is not cached: Get answers with the decode error naming the field,
// the handler is not called for it, and it is logged once per version.
//
// Objects are shared, immutable snapshots (shared_ptr<const T>): a reader
// keeps its copy valid while the cache moves on.
//
// Thread-safety: Start/Stop from one owner thread; Get/List/ForEach/synced
// from any thread. The handler runs on the informer's thread, one call at a
// time, after the cache holds the change.
#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stash/apis/client.h"
#include "stash/core/clock.h"
#include "stash/kube/informer.h"

namespace stash::apis {

template <class T>
class Informer {
 public:
  // type is ADDED, MODIFIED or DELETED (then `obj` is the last known state).
  using Handler = std::function<void(const std::string& type, const T& obj)>;

  // `ns` empty: all namespaces.
  Informer(const kube::Client& client, std::string ns, kube::ListOptions opts, Clock& clock,
           Handler handler = {})
      : handler_(std::move(handler)),
        inner_(client, T::Resource(), std::move(ns), std::move(opts), clock,
               [this](const std::string& type, const json& obj) { OnEvent(type, obj); }) {}
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start() { inner_.Start(); }
  // As kube::Informer: ask every informer to stop, then Stop() each.
  void RequestStop() { inner_.RequestStop(); }
  void Stop() { inner_.Stop(); }
  // True once the first list is in the cache.
  bool synced() const { return inner_.synced(); }
  // As kube::Informer::error(): what its retries meet, OK once a list worked.
  Status error() const { return inner_.error(); }

  // The cached object; kNotFound when there is none, kInvalid when the
  // server's copy does not decode.
  Result<std::shared_ptr<const T>> Get(std::string_view ns, std::string_view name) const {
    const std::string key = std::string(ns) + "/" + std::string(name);
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (auto it = broken_.find(key); it != broken_.end()) return it->second;
    return NotFoundError(T::Resource().kind + " " + key + " not found");
  }
  std::vector<std::shared_ptr<const T>> List() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<const T>> out;
    out.reserve(cache_.size());
    for (const auto& [k, v] : cache_) out.push_back(v);
    return out;
  }
  // Calls fn for each cached object under the cache's lock: fn must be quick
  // and must not call back into this informer.
  void ForEach(const std::function<void(const T&)>& fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : cache_) fn(*v);
  }

 private:
  void OnEvent(const std::string& type, const json& obj) {
    const std::string key = kube::ObjectKey(obj);
    std::shared_ptr<const T> current;
    if (type == "DELETED") {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = cache_.find(key); it != cache_.end()) current = it->second;
      cache_.erase(key);
      broken_.erase(key);
    } else {
      auto decoded = DecodeObject<T>(obj);
      std::lock_guard<std::mutex> lock(mu_);
      if (!decoded.ok()) {
        spdlog::warn("ignoring {}: {}", T::Resource().kind + " " + key, decoded.status().message());
        cache_.erase(key);
        broken_[key] = decoded.status();
        return;
      }
      current = std::make_shared<const T>(std::move(*decoded));
      cache_[key] = current;
      broken_.erase(key);
    }
    if (!current) {  // deleted before we ever decoded it: the stub will do
      auto stub = DecodeObject<T>(obj);
      if (!stub.ok()) return;
      current = std::make_shared<const T>(std::move(*stub));
    }
    if (handler_) handler_(type, *current);
  }

  Handler handler_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const T>> cache_;  // key "<ns>/<name>"
  std::map<std::string, Status> broken_;
  kube::Informer inner_;  // last: its thread must stop before the cache goes
};

// Stops several informers (pointers to anything with RequestStop/Stop; null
// ones are skipped) together: every watch is told first, so that they all
// end at once, then each thread is joined.
template <typename... Ptr>
void StopTogether(Ptr&... informers) {
  ((informers ? informers->RequestStop() : void()), ...);
  ((informers ? informers->Stop() : void()), ...);
}

}  // namespace stash::apis
