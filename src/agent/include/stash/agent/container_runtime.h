// ContainerRuntime: what the embedded node needs from a container engine, in
// the terms of Kubernetes' CRI (a pod sandbox holding containers), so that
// the node's pod logic (kubelet.h) does not know which engine runs them.
// PodmanRuntime (podman.h) is the implementation.
//
// Every sandbox and container carries labels naming the node that made it,
// the pod (uid, namespace, name) and the container (name, attempt, init or
// not, spec hash, log file): ListContainers after a restart of the node gives
// back everything it needs to adopt what still runs, and nothing of another
// node (several `stash server`s may share one host's engine).
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "stash/api/pod_streams.h"
#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::agent {

struct Mount {
  std::string host_path;
  std::string container_path;
  bool read_only = false;
};

struct SandboxSpec {
  std::string pod_uid;
  std::string ns;
  std::string name;
  std::string hostname;
};

struct ContainerSpec {
  // The sandbox (pod) and the container within it.
  std::string pod_uid, ns, pod_name;
  std::string name;
  bool init = false;
  int attempt = 0;  // restarts before this one: the pod's restartCount
  std::string image;
  std::vector<std::string> command;  // overrides the image's entrypoint when set
  std::vector<std::string> args;     // overrides the image's cmd when set (or command is)
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  std::vector<Mount> mounts;
  std::optional<int64_t> uid, gid;
  std::vector<int64_t> supplemental_groups;
  bool tty = false;
  bool stdin = false;
  // Output in CRI's log format ("<RFC3339Nano> stdout|stderr F|P text"), one
  // file per attempt, so logs (and --previous) survive a restart of the node.
  std::string log_path;
  // Of everything above but the attempt: a changed spec replaces the container.
  std::string hash;
};

enum class ContainerPhase { kCreated, kRunning, kExited };

struct ContainerInfo {
  std::string id;
  std::string pod_uid, ns, pod_name, name;
  bool init = false;
  int attempt = 0;
  std::string hash;
  std::string log_path;
  ContainerPhase phase = ContainerPhase::kCreated;
  int exit_code = 0;
  SystemTime created{}, started{}, finished{};
  std::string image, image_id;
};

struct SandboxInfo {
  std::string id;
  std::string pod_uid, ns, name;
};

// A command running in a container (kubectl exec): the API server's type.
using ExecProcess = api::ExecProcess;

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  // "podman 4.3.1 (runc)"; after Check() failed, why containers cannot run.
  virtual std::string Describe() const = 0;
  // Whether containers can run: the engine answers and a container of the
  // node's test image (or of none, when `image` is empty) starts.
  virtual Status Check(const std::string& image) = 0;

  // The image's id when it is in the local store; kNotFound when not.
  virtual Result<std::string> ImageId(const std::string& image) = 0;
  // Pulls; fails after `timeout` (the engine's message when it refuses).
  virtual Status PullImage(const std::string& image, std::chrono::seconds timeout) = 0;
  // Imports an OCI or docker archive; returns the names it loaded.
  virtual Result<std::vector<std::string>> LoadImage(const std::string& archive) = 0;

  virtual Result<std::string> EnsureSandbox(const SandboxSpec& spec) = 0;
  virtual Status RemoveSandbox(const std::string& id) = 0;
  virtual Result<std::vector<SandboxInfo>> ListSandboxes() = 0;

  // Creates and starts; returns the id. A container that was created but
  // could not start is left behind (listed as exited, exit code 128) and the
  // engine's message returned.
  virtual Result<std::string> StartContainer(const ContainerSpec& spec) = 0;
  // SIGTERM, SIGKILL after `grace`.
  virtual Status StopContainer(const std::string& id, std::chrono::seconds grace) = 0;
  virtual Status RemoveContainer(const std::string& id) = 0;
  virtual Result<std::vector<ContainerInfo>> ListContainers() = 0;

  virtual Result<std::unique_ptr<ExecProcess>> Exec(const std::string& id,
                                                    const std::vector<std::string>& command,
                                                    bool tty, bool stdin) = 0;
};

}  // namespace stash::agent
