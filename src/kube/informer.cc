#include "stash/kube/informer.h"

#include <spdlog/spdlog.h>

namespace stash::kube {

namespace {

// A string member of metadata, "" when absent or of another type.
std::string MetaString(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

std::string KeyOf(const json& obj) { return ObjectKey(obj); }

}  // namespace

std::string ObjectKey(const json& obj) {
  return MetaString(obj, "namespace") + "/" + MetaString(obj, "name");
}

bool SleepUnlessStopped(Clock& clock, Duration d, const std::atomic<bool>& stop) {
  SystemTime deadline = clock.Now() + d;
  while (!stop.load()) {
    SystemTime now = clock.Now();
    if (now >= deadline) return true;
    clock.SleepUntil(std::min(deadline, now + std::chrono::milliseconds(100)));
  }
  return false;
}

Informer::Informer(const Client& client, Resource resource, std::string ns, ListOptions opts,
                   Clock& clock, Handler handler)
    : client_(client),
      resource_(std::move(resource)),
      ns_(std::move(ns)),
      opts_(std::move(opts)),
      clock_(clock),
      handler_(std::move(handler)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<json> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<json> out;
  out.reserve(cache_.size());
  for (const auto& [k, v] : cache_) out.push_back(v);
  return out;
}

void Informer::ForEach(const std::function<void(const json&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : cache_) fn(v);
}

std::optional<json> Informer::Get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(ns + "/" + name);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void Informer::Deliver(const std::string& type, const json& obj) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (type == "DELETED") {
      cache_.erase(KeyOf(obj));
    } else {
      cache_[KeyOf(obj)] = obj;
    }
    std::string rv = obj.value("/metadata/resourceVersion"_json_pointer, "");
    if (!rv.empty()) resource_version_ = rv;
  }
  if (!handler_) return;
  try {
    handler_(type, obj);
  } catch (const std::exception& e) {
    spdlog::error("handling {} {} {}: {}", type, resource_.kind, KeyOf(obj), e.what());
  }
}

Status Informer::ListOnce() {
  STASH_ASSIGN_OR_RETURN(json list, client_.List(resource_, ns_, opts_));
  std::map<std::string, json> fresh;
  for (json& item : list.value("items", json::array())) {
    // List items carry no kind; handlers expect whole objects.
    item["apiVersion"] = resource_.ApiVersion();
    item["kind"] = resource_.kind;
    std::string key = KeyOf(item);  // before the move: operator= takes its argument by value
    fresh[key] = std::move(item);
  }
  std::map<std::string, json> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = cache_;
  }
  for (const auto& [key, obj] : old) {
    if (!fresh.count(key)) Deliver("DELETED", obj);
  }
  for (const auto& [key, obj] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      Deliver("ADDED", obj);
    } else if (it->second != obj) {
      Deliver("MODIFIED", obj);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  resource_version_ = list.value("/metadata/resourceVersion"_json_pointer, "");
  synced_ = true;
  return Status::Ok();
}

void Informer::Run() {
  Duration backoff = std::chrono::seconds(1);
  bool need_list = true;
  while (!stop_.load()) {
    if (need_list) {
      if (Status s = ListOnce(); !s.ok()) {
        spdlog::warn("listing {}: {}; retrying in {}s", resource_.plural, s.ToString(),
                     std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
        if (!SleepUnlessStopped(clock_, backoff, stop_)) return;
        backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(30));
        continue;
      }
      need_list = false;
    }
    ListOptions w = opts_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      w.resource_version = resource_version_;
    }
    w.timeout_seconds = 300;
    Status s = client_.Watch(
        resource_, ns_, w,
        [this](const WatchEvent& ev) {
          if (ev.type == "BOOKMARK") {
            std::lock_guard<std::mutex> lock(mu_);
            resource_version_ = ev.object.value("/metadata/resourceVersion"_json_pointer, "");
            return;
          }
          json obj = ev.object;
          obj["apiVersion"] = resource_.ApiVersion();
          obj["kind"] = resource_.kind;
          Deliver(ev.type, obj);
        },
        &stop_);
    if (stop_.load()) return;
    if (s.ok()) {
      backoff = std::chrono::seconds(1);
      continue;
    }
    if (s.code() == Code::kFailedPrecondition) {
      need_list = true;  // 410: our resourceVersion is too old
      continue;
    }
    spdlog::warn("watching {}: {}; retrying in {}s", resource_.plural, s.ToString(),
                 std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
    if (!SleepUnlessStopped(clock_, backoff, stop_)) return;
    backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(30));
    // A server restart may have lost our place; re-list to be sure nothing is missed.
    need_list = true;
  }
}

}  // namespace stash::kube
