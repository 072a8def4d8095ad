// EventRecorder: writes core/v1 Events about an object, as Kubernetes'
// recorders do, so `kubectl describe` lists them. A repeat of an identical
// event (same object, type, reason, message and source) bumps the existing
// event's count and lastTimestamp instead of adding a row — also across
// processes, since the existing event is looked up on the server.
//
// Also: RFC 3339 time formatting/parsing for object timestamps.
//
// Thread-safety: Record may be called concurrently.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::kube {

// "2019-08-02T06:13:05Z" (seconds precision, UTC).
std::string FormatTime(SystemTime t);
Result<SystemTime> ParseTime(std::string_view rfc3339);

inline constexpr std::string_view kNormal = "Normal";
inline constexpr std::string_view kWarning = "Warning";

class EventRecorder {
 public:
  EventRecorder(const Client& client, Clock& clock, std::string component)
      : client_(client), clock_(clock), component_(std::move(component)) {}

  // `involved` is the whole object (apiVersion, kind, metadata with uid).
  Status Record(const json& involved, std::string_view type, std::string_view reason,
                std::string_view message);

 private:
  const Client& client_;
  Clock& clock_;
  const std::string component_;
};

}  // namespace stash::kube
