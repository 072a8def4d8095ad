#include "apiservice_controller.h"

#include <spdlog/spdlog.h>

#include "aggregator.h"
#include "object_meta.h"
#include "stash/api/table.h"

namespace stash::api {

namespace {

constexpr const char* kApiServices = "apiregistration.k8s.io/apiservices";
constexpr auto kRecheck = std::chrono::seconds(30);

// The APIService's condition `Available` set to `a`: reason and message
// always, lastTransitionTime only when the status flips (or is new).
void SetAvailable(json* apiservice, const Availability& a, const std::string& now) {
  json& status = (*apiservice)["status"];
  if (!status.is_object()) status = json::object();
  json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  const std::string value = a.available ? "True" : "False";
  for (json& c : conditions) {
    if (!c.is_object() || c.value("type", "") != "Available") continue;
    if (c.value("status", "") != value) c["lastTransitionTime"] = now;
    c["status"] = value;
    c["reason"] = a.reason;
    c["message"] = a.message;
    return;
  }
  conditions.push_back({{"type", "Available"},
                        {"status", value},
                        {"lastTransitionTime", now},
                        {"reason", a.reason},
                        {"message", a.message}});
}

}  // namespace

ApiServiceAvailabilityController::ApiServiceAvailabilityController(ControllerContext& ctx,
                                                                   Aggregator* aggregator)
    : ctx_(ctx), aggregator_(aggregator) {
  worker_ = std::thread([this] { Work(); });
  // A request the aggregator could not forward: the backend may be gone
  // while no object changed, so look now rather than at the next period.
  if (aggregator_)
    aggregator_->SetOnUnreachable([this](const std::string& name) { Enqueue(name); });
}

void ApiServiceAvailabilityController::Enqueue(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || !queued_.insert(name).second) return;
    pending_.push_back(name);
  }
  cv_.notify_one();
}

ApiServiceAvailabilityController::~ApiServiceAvailabilityController() { Shutdown(); }

void ApiServiceAvailabilityController::Shutdown() {
  if (aggregator_) aggregator_->SetOnUnreachable(nullptr);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ApiServiceAvailabilityController::OnEvent(const WatchEvent& event) {
  const json& obj = *event.object;
  if (event.resource == kApiServices) {
    if (event.type == EventType::kDeleted) return;
    // Its own status writes come back here: only a new spec is news.
    if (event.type == EventType::kModified && event.previous &&
        event.previous->value("spec", json()) == obj.value("spec", json())) {
      return;
    }
    ctx_.queue.Add("apisvc/" + MetaField(obj, "name"));
    return;
  }
  if (event.resource != "/services" && event.resource != "/endpoints") return;
  const std::string name = MetaField(obj, "name");
  for (const json& s : ctx_.store.List(kApiServices, "", nullptr)) {
    const json ref = s.value("/spec/service"_json_pointer, json());
    if (ref.is_object() && ref.value("namespace", "") == event.ns &&
        ref.value("name", "") == name) {
      ctx_.queue.Add("apisvc/" + MetaField(s, "name"));
    }
  }
}

void ApiServiceAvailabilityController::Process(const std::string& name) {
  if (!ctx_.store.Get(kApiServices, "", name)) return;
  Enqueue(name);
  ctx_.queue.Add("apisvc/" + name, kRecheck);
}

void ApiServiceAvailabilityController::Work() {
  while (true) {
    std::string name;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      name = pending_.front();
      pending_.pop_front();
      queued_.erase(name);
    }
    Probe(name);
  }
}

void ApiServiceAvailabilityController::Probe(const std::string& name) {
  auto apiservice = ctx_.store.Get(kApiServices, "", name);
  if (!apiservice) return;
  const Availability a =
      aggregator_ ? aggregator_->Check(*apiservice)
                  : Availability{true, "Local", "Local APIServices are always available"};
  // The registry, not ctx_.ResourceForKey: that cache belongs to the
  // controllers' thread.
  auto info = ctx_.registry.Find("apiregistration.k8s.io", "v1", "apiservices");
  if (!info) return;
  const std::string now = FormatTimestamp(ctx_.clock.Now());
  auto r = ctx_.handler.ModifyObject(*info, "", name, MetaField(*apiservice, "uid"), [&](json* o) {
    SetAvailable(o, a, now);
    return Status::Ok();
  });
  if (!r.ok() && r.status().code() != Code::kNotFound) {
    spdlog::warn("apiservice availability: {}: {}", name, r.status().ToString());
  }
}

}  // namespace stash::api
