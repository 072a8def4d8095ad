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

void JoinWaking(Clock& clock, std::thread& thread, const std::atomic<bool>& exited) {
  if (!thread.joinable()) return;
  while (!exited.load()) {
    clock.Interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread.join();
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
  exited_ = false;
  thread_ = std::thread([this] {
    Run();
    exited_ = true;
  });
}

void Informer::RequestStop() {
  stop_ = true;
  client_.WakeWatches();
}

void Informer::Stop() {
  RequestStop();
  JoinWaking(clock_, thread_, exited_);
}

Status Informer::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void Informer::SetError(const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  error_ = s;
}

void Informer::Deliver(const std::string& type, const json& obj) {
  const std::string key = ObjectKey(obj);
  const std::string rv = MetaString(obj, "resourceVersion");
  if (type == "DELETED") {
    versions_.erase(key);
  } else {
    versions_[key] = rv;
  }
  if (!rv.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    resource_version_ = rv;
  }
  if (handler_) handler_(type, obj);
}

Status Informer::ListOnce() {
  STASH_ASSIGN_OR_RETURN(json list, client_.List(resource_, ns_, opts_));
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    return UnavailableError("listing " + resource_.plural + ": the server's answer has no items");
  }
  std::map<std::string, json> fresh;
  for (json& item : list["items"]) {
    if (!item.is_object()) continue;
    // List items carry no kind; handlers expect whole objects.
    item["apiVersion"] = resource_.ApiVersion();
    item["kind"] = resource_.kind;
    std::string key = ObjectKey(item);  // before the move: operator= takes its argument by value
    fresh[key] = std::move(item);
  }
  std::vector<std::string> gone;
  for (const auto& [key, rv] : versions_) {
    if (!fresh.count(key)) gone.push_back(key);
  }
  for (const std::string& key : gone) {
    const size_t slash = key.find('/');
    json stub = {{"apiVersion", resource_.ApiVersion()},
                 {"kind", resource_.kind},
                 {"metadata",
                  {{"namespace", key.substr(0, slash)},
                   {"name", key.substr(slash + 1)},
                   {"resourceVersion", versions_[key]}}}};
    Deliver("DELETED", stub);
  }
  for (const auto& [key, obj] : fresh) {
    auto it = versions_.find(key);
    if (it == versions_.end()) {
      Deliver("ADDED", obj);
    } else if (it->second != MetaString(obj, "resourceVersion")) {
      Deliver("MODIFIED", obj);
    }
  }
  std::string rv;
  if (auto meta = list.find("metadata"); meta != list.end() && meta->is_object()) {
    if (auto it = meta->find("resourceVersion"); it != meta->end() && it->is_string()) {
      rv = it->get<std::string>();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  resource_version_ = rv;
  error_ = Status::Ok();
  synced_ = true;
  return Status::Ok();
}

void Informer::Run() {
  Duration backoff = std::chrono::seconds(1);
  bool need_list = true;
  while (!stop_.load()) {
    if (need_list) {
      if (Status s = ListOnce(); !s.ok()) {
        SetError(Status(s).Prepend("listing " + resource_.plural));
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
    if (w.timeout_seconds <= 0) w.timeout_seconds = 300;
    Status s = client_.Watch(
        resource_, ns_, w,
        [this](const WatchEvent& ev) {
          if (!ev.object.is_object()) return;
          if (ev.type == "BOOKMARK") {
            std::string rv = MetaString(ev.object, "resourceVersion");
            std::lock_guard<std::mutex> lock(mu_);
            if (!rv.empty()) resource_version_ = rv;
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
    SetError(Status(s).Prepend("watching " + resource_.plural));
    spdlog::warn("watching {}: {}; retrying in {}s", resource_.plural, s.ToString(),
                 std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
    if (!SleepUnlessStopped(clock_, backoff, stop_)) return;
    backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(30));
    // A server restart may have lost our place; re-list to be sure nothing is missed.
    need_list = true;
  }
}

}  // namespace stash::kube
