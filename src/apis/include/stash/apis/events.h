// EventRecorder: writes core/v1 Events about an object, as Kubernetes'
// recorders do, so `kubectl describe` lists them. A repeat of an identical
// event (same object, type, reason, message and source) bumps the existing
// event's count and lastTimestamp instead of adding a row - also across
// processes, since the existing event is looked up on the server.
//
// Thread-safety: Record may be called concurrently.
#pragma once

#include <string>
#include <string_view>

#include "stash/apis/client.h"
#include "stash/apis/core.h"
#include "stash/core/clock.h"

namespace stash::apis {

inline constexpr std::string_view kNormal = "Normal";
inline constexpr std::string_view kWarning = "Warning";

// The involvedObject of an event about `obj`.
template <class T>
ObjectReference ReferenceTo(const T& obj) {
  ObjectReference r;
  r.api_version = T::Resource().ApiVersion();
  r.kind = T::Resource().kind;
  r.namespace_ = obj.metadata.namespace_;
  r.name = obj.metadata.name;
  r.uid = obj.metadata.uid;
  r.resource_version = obj.metadata.resource_version;
  return r;
}

class EventRecorder {
 public:
  EventRecorder(const kube::Client& client, Clock& clock, std::string component)
      : client_(client), clock_(clock), component_(std::move(component)) {}

  Status Record(const ObjectReference& involved, std::string_view type, std::string_view reason,
                std::string_view message);
  template <class T>
  Status Record(const T& obj, std::string_view type, std::string_view reason,
                std::string_view message) {
    return Record(ReferenceTo(obj), type, reason, message);
  }

 private:
  const kube::Client& client_;
  Clock& clock_;
  const std::string component_;
};

}  // namespace stash::apis
