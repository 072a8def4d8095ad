#include "stash/apis/events.h"

#include <cstdio>

#include "stash/kube/events.h"

namespace stash::apis {

Status EventRecorder::Record(const ObjectReference& involved, std::string_view type,
                             std::string_view reason, std::string_view message) {
  const std::string ns = involved.namespace_.empty() ? "default" : involved.namespace_;
  const std::string now = kube::FormatTime(clock_.Now());

  kube::ListOptions opts;
  opts.field_selector =
      "involvedObject.name=" + involved.name + ",involvedObject.kind=" + involved.kind;
  if (auto existing = List<Event>(client_, ns, opts); existing.ok()) {
    for (const Event& ev : *existing) {
      if (ev.involved_object.uid != involved.uid || ev.type != type || ev.reason != reason ||
          ev.message != message || ev.source.component != component_) {
        continue;
      }
      json patch = {{"count", std::max(ev.count, 1) + 1}, {"lastTimestamp", now}};
      if (MergePatch<Event>(client_, ev.metadata, patch).ok()) return Status::Ok();
      break;  // fall through to creating a fresh event
    }
  }

  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch()).count();
  char hex[32];
  snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  Event ev;
  ev.metadata.name = involved.name + "." + hex;
  ev.metadata.namespace_ = ns;
  ev.involved_object = involved;
  ev.involved_object.namespace_ = ns;
  ev.reason = reason;
  ev.message = message;
  ev.type = type;
  ev.source.component = component_;
  ev.count = 1;
  ev.first_timestamp = now;
  ev.last_timestamp = now;
  ev.reporting_component = component_;
  auto created = Create(client_, ev);
  if (!created.ok()) {
    return Status(created.status())
        .Prepend("recording event " + std::string(reason) + " on " + involved.kind + " " + ns +
                 "/" + involved.name);
  }
  return Status::Ok();
}

}  // namespace stash::apis
