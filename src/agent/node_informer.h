// NodeInformer: the node's view of one kind, on the typed API's decoded
// cache (apis::Informer<T>), handed to the node's loop as JSON: the node's
// pod, workload and CronJob logic still reads objects as JSON (codec.h
// writes back everything a typed object carried, so nothing is lost).
//
// Thread-safety: as apis::Informer (Start/Stop from one owner thread; List
// and synced from any thread).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/informer.h"

namespace stash::agent {

class NodeInformer {
 public:
  // type is ADDED, MODIFIED or DELETED.
  using Handler = std::function<void(const std::string& type, const apis::json& obj)>;
  virtual ~NodeInformer() = default;
  virtual void Start() = 0;
  virtual void RequestStop() = 0;
  virtual void Stop() = 0;
  virtual bool synced() const = 0;
  // Every cached object, apiVersion and kind included.
  virtual std::vector<apis::json> List() const = 0;

  // Watches every namespace's T; `handler` may be empty.
  template <class T>
  static std::unique_ptr<NodeInformer> Of(const kube::Client& client, Clock& clock,
                                          Handler handler);
};

template <class T>
class TypedNodeInformer final : public NodeInformer {
 public:
  TypedNodeInformer(const kube::Client& client, Clock& clock, Handler handler)
      : informer_(client, "", {}, clock,
                  [handler = std::move(handler)](const std::string& type, const T& obj) {
                    if (handler) handler(type, apis::ToJson(obj));
                  }) {}
  void Start() override { informer_.Start(); }
  void RequestStop() override { informer_.RequestStop(); }
  void Stop() override { informer_.Stop(); }
  bool synced() const override { return informer_.synced(); }
  std::vector<apis::json> List() const override {
    std::vector<apis::json> out;
    for (const auto& obj : informer_.List()) {
      apis::json j = apis::ToJson(*obj);
      j["apiVersion"] = T::Resource().ApiVersion();
      j["kind"] = T::Resource().kind;
      out.push_back(std::move(j));
    }
    return out;
  }

 private:
  apis::Informer<T> informer_;
};

template <class T>
std::unique_ptr<NodeInformer> NodeInformer::Of(const kube::Client& client, Clock& clock,
                                               Handler handler) {
  return std::make_unique<TypedNodeInformer<T>>(client, clock, std::move(handler));
}

}  // namespace stash::agent
