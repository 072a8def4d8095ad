#include "node_heartbeat.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "stash/kube/events.h"

namespace stash::agent {

namespace {

using kube::json;

std::string FirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

std::string OsImage() {
  std::ifstream f("/etc/os-release");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return "Linux";
}

const char* Arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, const std::string& now) {
  return {{"type", type},       {"status", status},         {"reason", reason},
          {"message", message}, {"lastHeartbeatTime", now}, {"lastTransitionTime", now}};
}

}  // namespace

NodeHeartbeat::NodeHeartbeat(const kube::Client& client, Clock& clock, std::string node_name,
                             std::string data_dir)
    : client_(client), clock_(clock), name_(std::move(node_name)), data_dir_(std::move(data_dir)) {}

NodeHeartbeat::~NodeHeartbeat() { Stop(); }

void NodeHeartbeat::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void NodeHeartbeat::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

json NodeHeartbeat::NodeStatus(SystemTime now) const {
  const std::string stamp = kube::FormatTime(now);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long long mem_kib =
      static_cast<long long>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 1024;
  struct statvfs disk {};
  long long disk_kib = 0;
  if (statvfs(data_dir_.c_str(), &disk) == 0) {
    disk_kib = static_cast<long long>(disk.f_blocks) * static_cast<long long>(disk.f_frsize) / 1024;
  }
  json resources = {{"cpu", std::to_string(cpus)},
                    {"memory", std::to_string(mem_kib) + "Ki"},
                    {"ephemeral-storage", std::to_string(disk_kib) + "Ki"},
                    {"pods", "110"}};
  struct utsname u {};
  uname(&u);
  return {{"capacity", resources},
          {"allocatable", resources},
          {"conditions",
           {Condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available", stamp),
            Condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                      "kubelet has no disk pressure", stamp),
            Condition("PIDPressure", "False", "KubeletHasSufficientPID",
                      "kubelet has sufficient PID available", stamp),
            Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", stamp)}},
          {"addresses",
           {{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
            {{"type", "Hostname"}, {"address", name_}}}},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 0}}}}},
          {"nodeInfo",
           {{"machineID", FirstLine("/etc/machine-id")},
            {"systemUUID", FirstLine("/etc/machine-id")},
            {"bootID", FirstLine("/proc/sys/kernel/random/boot_id")},
            {"kernelVersion", u.release},
            {"osImage", OsImage()},
            {"containerRuntimeVersion", "stash-embedded://processes"},
            {"kubeletVersion", "v1.32.4"},
            {"kubeProxyVersion", ""},
            {"operatingSystem", "linux"},
            {"architecture", Arch()}}}};
}

Status NodeHeartbeat::Register() {
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata",
                {{"name", name_},
                 {"labels",
                  {{"kubernetes.io/hostname", name_},
                   {"kubernetes.io/os", "linux"},
                   {"kubernetes.io/arch", Arch()},
                   {"beta.kubernetes.io/os", "linux"},
                   {"beta.kubernetes.io/arch", Arch()},
                   {"node-role.kubernetes.io/control-plane", ""}}}}},
               {"spec", json::object()}};
  auto created = client_.Create(kube::res::kNodes, "", node);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  // As a kubelet, a (re)started node posts its whole status: Ready from now.
  json patch = {{"status", NodeStatus(clock_.Now())}};
  auto p = client_.Patch(kube::res::kNodes, "", name_, kube::PatchType::kMerge, patch, "status");
  return p.ok() ? Status::Ok() : p.status();
}

Status NodeHeartbeat::Beat() {
  auto node = client_.Get(kube::res::kNodes, "", name_);
  if (!node.ok()) return node.status();
  json status = NodeStatus(clock_.Now());
  // Keep when each condition last changed; only the heartbeat moves.
  for (json& c : status["conditions"]) {
    for (const json& old : node->value("/status/conditions"_json_pointer, json::array())) {
      if (old.value("type", "") == c["type"] && old.value("status", "") == c["status"]) {
        c["lastTransitionTime"] = old.value("lastTransitionTime", c["lastTransitionTime"]);
      }
    }
  }
  auto p = client_.Patch(kube::res::kNodes, "", name_, kube::PatchType::kMerge,
                         {{"status", status}}, "status");
  return p.ok() ? Status::Ok() : p.status();
}

void NodeHeartbeat::Loop() {
  bool registered = false;
  SystemTime next{};
  while (!stop_.load()) {
    if (clock_.Now() >= next) {
      Status s = registered ? Beat() : Register();
      if (s.ok()) {
        registered = true;
      } else {
        if (s.code() == Code::kNotFound) registered = false;  // deleted: register again
        spdlog::warn("node: {} node {}: {}", registered ? "heartbeat of" : "registering", name_,
                     s.ToString());
      }
      next = clock_.Now() + std::chrono::seconds(s.ok() ? 10 : 2);
    }
    clock_.SleepUntil(std::min(next, clock_.Now() + std::chrono::milliseconds(200)));
  }
}

}  // namespace stash::agent
