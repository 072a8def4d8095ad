// NodeInformer: the node's view of one kind, an apis::Informer<T> (decoded
// cache) behind one interface, so NodeRuntime starts and stops its informers
// alike; TypedNodeInformer<T> hands its objects to the node's loop as T.
//
// Thread-safety: as apis::Informer (Start/Stop from one owner thread; List
// and synced from any thread).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "stash/apis/informer.h"

namespace stash::agent {

class NodeInformer {
 public:
  virtual ~NodeInformer() = default;
  virtual void Start() = 0;
  virtual void RequestStop() = 0;
  virtual void Stop() = 0;
  virtual bool synced() const = 0;
};

template <class T>
class TypedNodeInformer final : public NodeInformer {
 public:
  // type is ADDED, MODIFIED or DELETED.
  using Handler = std::function<void(const std::string& type, const T& obj)>;

  // Watches every namespace's T; `handler` may be empty.
  TypedNodeInformer(const kube::Client& client, Clock& clock, Handler handler = {})
      : informer_(client, "", {}, clock, std::move(handler)) {}
  void Start() override { informer_.Start(); }
  void RequestStop() override { informer_.RequestStop(); }
  void Stop() override { informer_.Stop(); }
  bool synced() const override { return informer_.synced(); }
  // Every cached object (apiVersion and kind filled in).
  std::vector<T> List() const {
    std::vector<T> out;
    informer_.ForEach([&](const T& obj) { out.push_back(obj); });
    return out;
  }
  // Every cached object, shared with the cache (no copy).
  std::vector<std::shared_ptr<const T>> ListShared() const { return informer_.List(); }
  // The cached object of key "<ns>/<name>", shared with the cache; null when
  // there is none (or it does not decode).
  std::shared_ptr<const T> Get(const std::string& key) const {
    const size_t slash = key.find('/');
    if (slash == std::string::npos) return nullptr;
    auto got = informer_.Get(std::string_view(key).substr(0, slash),
                             std::string_view(key).substr(slash + 1));
    return got.ok() ? *got : nullptr;
  }

 private:
  apis::Informer<T> informer_;
};

}  // namespace stash::agent
