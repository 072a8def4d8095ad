#include <spdlog/spdlog.h>

#include "apiservice_controller.h"
#include "controllers.h"
#include "endpoints_controller.h"
#include "gc.h"
#include "namespace_controller.h"
#include "object_meta.h"
#include "stash/api/table.h"
#include "volumes.h"
#include "workloads.h"

namespace stash::api {

std::optional<ObjectKey> ObjectKey::Parse(const std::string& s) {
  size_t a = s.find('|');
  if (a == std::string::npos) return std::nullopt;
  size_t b = s.find('|', a + 1);
  if (b == std::string::npos) return std::nullopt;
  return ObjectKey{s.substr(0, a), s.substr(a + 1, b - a - 1), s.substr(b + 1)};
}

void WorkItems::Add(const std::string& item, Duration delay) {
  SystemTime at = clock_.Now() + delay;
  auto it = due_.find(item);
  if (it != due_.end()) {
    if (it->second <= at) return;  // already due sooner
    order_.erase({it->second, item});
  }
  due_[item] = at;
  order_.insert({at, item});
}

std::optional<std::string> WorkItems::PopDue() {
  if (order_.empty() || order_.begin()->first > clock_.Now()) return std::nullopt;
  std::string item = order_.begin()->second;
  order_.erase(order_.begin());
  due_.erase(item);
  return item;
}

const std::vector<ResourceInfo>& ControllerContext::Resources() {
  if (resources_.empty()) {
    std::set<std::string> seen;
    for (ResourceInfo& r : registry.All()) {
      if (!seen.insert(r.key()).second) continue;
      r.schema = nullptr;
      r.printer_columns = nullptr;
      resources_.push_back(std::move(r));
    }
  }
  return resources_;
}

std::optional<ResourceInfo> ControllerContext::ResourceForKind(const std::string& api_version,
                                                               const std::string& kind) {
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (const ResourceInfo& r : Resources()) {
      if (r.group == group && r.kind == kind) return r;
    }
    ForgetResources();  // a CRD may have been added since
  }
  return std::nullopt;
}

std::optional<ResourceInfo> ControllerContext::ResourceForKey(const std::string& key) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (const ResourceInfo& r : Resources()) {
      if (r.key() == key) return r;
    }
    ForgetResources();
  }
  return std::nullopt;
}

void ControllerContext::RecordEvent(const json& obj, const std::string& type,
                                    const std::string& reason, const std::string& message,
                                    const std::string& component) {
  auto info = ResourceForKey("/events");
  if (!info) return;
  const std::string ns =
      MetaField(obj, "namespace").empty() ? "default" : MetaField(obj, "namespace");
  const std::string now = FormatTimestamp(clock.Now());
  char suffix[24];
  snprintf(suffix, sizeof suffix, "%016llx",
           static_cast<unsigned long long>(clock.Now().time_since_epoch().count()) + events_++);
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", MetaField(obj, "name") + "." + suffix}, {"namespace", ns}}},
                {"involvedObject",
                 {{"apiVersion", obj.value("apiVersion", "")},
                  {"kind", obj.value("kind", "")},
                  {"name", MetaField(obj, "name")},
                  {"namespace", MetaField(obj, "namespace")},
                  {"uid", MetaField(obj, "uid")},
                  {"resourceVersion", MetaField(obj, "resourceVersion")}}},
                {"type", type},
                {"reason", reason},
                {"message", message},
                {"source", {{"component", component}}},
                {"firstTimestamp", now},
                {"lastTimestamp", now},
                {"count", 1}};
  auto r = handler.CreateObject(*info, ns, event);
  if (!r.ok()) spdlog::debug("controllers: recording event {}: {}", reason, r.status().ToString());
}

ControllerManager::ControllerManager(Store& store, Registry& registry, ApiHandler& handler,
                                     Clock& clock, ControllerOptions options)
    : queue_(clock), ctx_(store, registry, handler, clock, queue_, std::move(options)) {
  controllers_.push_back(std::make_unique<GarbageCollector>(ctx_));
  controllers_.push_back(std::make_unique<NamespaceController>(ctx_));
  controllers_.push_back(std::make_unique<VolumeController>(ctx_));
  controllers_.push_back(std::make_unique<NodeLifecycleController>(ctx_));
  controllers_.push_back(std::make_unique<ReplicaSetController>(ctx_));
  controllers_.push_back(std::make_unique<DeploymentController>(ctx_));
  controllers_.push_back(std::make_unique<StatefulSetController>(ctx_));
  controllers_.push_back(std::make_unique<DaemonSetController>(ctx_));
  controllers_.push_back(std::make_unique<PodScheduler>(ctx_));
  controllers_.push_back(std::make_unique<EndpointsController>(ctx_));
  // APIService conditions need the aggregation layer (the server's; unit
  // tests of the other controllers run without one).
  if (Aggregator* aggregator = handler.aggregator()) {
    controllers_.push_back(std::make_unique<ApiServiceAvailabilityController>(ctx_, aggregator));
  }
}

ControllerManager::~ControllerManager() { Stop(); }

Status ControllerManager::Resync() {
  // Watch first, then list: a change between the two is seen twice, which
  // every controller tolerates, and none is missed.
  if (watcher_) ctx_.store.Unwatch(watcher_);
  STASH_ASSIGN_OR_RETURN(watcher_, ctx_.store.Watch("", "", 0));
  // A copy: dispatching a CustomResourceDefinition makes the context forget
  // (clear) its resource list, which this loop would otherwise still be
  // walking (a use after free ASan found at every start with CRDs).
  const std::vector<ResourceInfo> resources = ctx_.Resources();
  for (const ResourceInfo& r : resources) {
    for (json& obj : ctx_.store.List(r.key(), "", nullptr)) {
      WatchEvent e{EventType::kAdded,
                   0,
                   r.key(),
                   MetaField(obj, "namespace"),
                   std::make_shared<const json>(std::move(obj)),
                   nullptr};
      Dispatch(e);
    }
  }
  return Status::Ok();
}

Status ControllerManager::Start(bool run_thread) {
  STASH_RETURN_IF_ERROR(Resync());
  stop_ = false;
  if (run_thread) thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void ControllerManager::Stop() {
  stop_ = true;
  if (watcher_) watcher_->Close();
  if (thread_.joinable()) thread_.join();
  for (auto& c : controllers_) c->Shutdown();
  if (watcher_) ctx_.store.Unwatch(watcher_);
  watcher_.reset();
}

void ControllerManager::Dispatch(const WatchEvent& event) {
  if (event.resource == "apiextensions.k8s.io/customresourcedefinitions") {
    ctx_.ForgetResources();
  }
  for (auto& c : controllers_) c->OnEvent(event);
}

bool ControllerManager::RunOne() {
  std::optional<std::string> item = queue_.PopDue();
  if (!item) return false;
  size_t slash = item->find('/');
  std::string prefix = item->substr(0, slash);
  for (auto& c : controllers_) {
    if (c->prefix() != prefix) continue;
    try {
      c->Process(slash == std::string::npos ? "" : item->substr(slash + 1));
    } catch (const std::exception& e) {  // a malformed object must not stop the others
      spdlog::error("controllers: {}: {}", *item, e.what());
    }
  }
  return true;
}

void ControllerManager::RunUntilIdle() {
  for (auto& c : controllers_) c->Tick();
  while (true) {
    bool did = false;
    while (auto e = watcher_->Next(std::chrono::steady_clock::now())) {
      Dispatch(*e);
      did = true;
    }
    while (RunOne()) did = true;
    if (!did) return;
  }
}

void ControllerManager::Loop() {
  auto next_tick = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    // Drain the changes first (cheap), then the due work, a batch at a time
    // so new changes are never starved.
    auto wait = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    if (!queue_.empty()) wait = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    if (auto e = watcher_->Next(wait)) {
      Dispatch(*e);
      while (auto more = watcher_->Next(std::chrono::steady_clock::now())) Dispatch(*more);
    } else if (watcher_->closed()) {
      if (stop_.load()) break;
      // The store drops a watcher that fell too far behind: list again.
      spdlog::warn("controllers: the store closed their watch; listing everything again");
      if (Status st = Resync(); !st.ok()) {
        spdlog::error("controllers: {}", st.ToString());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      continue;
    }
    for (int i = 0; i < 64 && !stop_.load() && RunOne(); ++i) {
    }
    if (std::chrono::steady_clock::now() >= next_tick) {
      next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      for (auto& c : controllers_) c->Tick();
    }
  }
}

}  // namespace stash::api
