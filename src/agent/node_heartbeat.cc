#include "node_heartbeat.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "stash/apis/client.h"
#include "stash/kube/events.h"
#include "stash/kube/informer.h"

namespace stash::agent {

namespace {

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

apis::NodeCondition Condition(const std::string& type, const std::string& status,
                              const std::string& reason, const std::string& message,
                              const std::string& now) {
  apis::NodeCondition c;
  c.type = type;
  c.status = status;
  c.reason = reason;
  c.message = message;
  c.last_heartbeat_time = now;
  c.last_transition_time = now;
  return c;
}

}  // namespace

NodeHeartbeat::NodeHeartbeat(const kube::Client& client, Clock& clock, std::string node_name,
                             std::string data_dir)
    : client_(client), clock_(clock), name_(std::move(node_name)), data_dir_(std::move(data_dir)) {}

NodeHeartbeat::~NodeHeartbeat() { Stop(); }

void NodeHeartbeat::Start() {
  stop_ = false;
  exited_ = false;
  thread_ = std::thread([this] {
    Loop();
    exited_ = true;
  });
}

void NodeHeartbeat::Stop() {
  stop_ = true;
  kube::JoinWaking(clock_, thread_, exited_);  // not after its next 200 ms sleep
}

apis::NodeStatus NodeHeartbeat::NodeStatus(SystemTime now) const {
  const std::string stamp = kube::FormatTime(now);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long long mem_kib =
      static_cast<long long>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 1024;
  struct statvfs disk {};
  long long disk_kib = 0;
  if (statvfs(data_dir_.c_str(), &disk) == 0) {
    disk_kib = static_cast<long long>(disk.f_blocks) * static_cast<long long>(disk.f_frsize) / 1024;
  }
  apis::NodeStatus status;
  status.capacity = {{"cpu", std::to_string(cpus)},
                     {"memory", std::to_string(mem_kib) + "Ki"},
                     {"ephemeral-storage", std::to_string(disk_kib) + "Ki"},
                     {"pods", "110"}};
  status.allocatable = status.capacity;
  status.conditions = {
      Condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available", stamp),
      Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
                stamp),
      Condition("PIDPressure", "False", "KubeletHasSufficientPID",
                "kubelet has sufficient PID available", stamp),
      Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", stamp)};
  status.addresses = {{"InternalIP", "127.0.0.1", {}}, {"Hostname", name_, {}}};
  // No kubelet port: logs and exec go through the API server (NodeStreams).
  status.daemon_endpoints.kubelet_endpoint.port = 0;
  struct utsname u {};
  uname(&u);
  apis::NodeSystemInfo& info = status.node_info;
  info.machine_id = FirstLine("/etc/machine-id");
  info.system_uuid = FirstLine("/etc/machine-id");
  info.boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
  info.kernel_version = u.release;
  info.os_image = OsImage();
  info.container_runtime_version = "stash-embedded://processes";
  info.kubelet_version = "v1.32.4";
  info.operating_system = "linux";
  info.architecture = Arch();
  return status;
}

Status NodeHeartbeat::Register() {
  apis::Node node;
  node.api_version = "v1";
  node.kind = "Node";
  node.metadata.name = name_;
  node.metadata.labels = {
      {"kubernetes.io/hostname", name_},   {"kubernetes.io/os", "linux"},
      {"kubernetes.io/arch", Arch()},      {"beta.kubernetes.io/os", "linux"},
      {"beta.kubernetes.io/arch", Arch()}, {"node-role.kubernetes.io/control-plane", ""}};
  auto created = apis::Create(client_, node);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  // As a kubelet, a (re)started node posts its whole status: Ready from now.
  STASH_RETURN_IF_ERROR(apis::PatchStatus(client_, node, NodeStatus(clock_.Now())));
  return Status::Ok();
}

Status NodeHeartbeat::Beat() {
  STASH_ASSIGN_OR_RETURN(apis::Node node, apis::Get<apis::Node>(client_, "", name_));
  apis::NodeStatus status = NodeStatus(clock_.Now());
  // Keep when each condition last changed; only the heartbeat moves.
  for (apis::NodeCondition& c : status.conditions) {
    for (const apis::NodeCondition& old : node.status.conditions) {
      if (old.type == c.type && old.status == c.status && !old.last_transition_time.empty()) {
        c.last_transition_time = old.last_transition_time;
      }
    }
  }
  STASH_RETURN_IF_ERROR(apis::PatchStatus(client_, node, status));
  return Status::Ok();
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
