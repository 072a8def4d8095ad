// PodmanRuntime: ContainerRuntime on Debian's podman, driven through its
// command line. Why the CLI and not podman's REST socket: podman is
// daemonless, the socket would be one more service for the node to start,
// supervise and outlive (`podman system service`), while every CLI call
// reads the same state directly; exec maps onto a `podman exec` child with
// pipes or a pty, and container logs are files the node reads itself (CRI
// format, `--log-opt path=`), so nothing long-lived talks to podman. The cost
// is a process per call (~0.1-0.3 s of podman start-up), paid per container
// start and per listing, not per request.
//
// Podman on this kind of host needs: runc (crun fails on hybrid cgroups) and
// explicit rlimits (its defaults exceed the hard limits); both go into a
// containers.conf the runtime writes into its own directory and hands to
// every podman call (CONTAINERS_CONF), so the host's configuration is left
// alone. Pods share the host's network namespace (hostNetwork: the API
// server on 127.0.0.1 is reachable from every container; no pod IPs) and
// have their own IPC and UTS namespaces through podman's pause container.
// Images are never pulled implicitly (--pull=never); PullImage is explicit
// and bounded by a timeout.
//
// Thread-safety: thread-safe (each call is its own podman process).
#pragma once

#include <string>

#include "stash/agent/container_runtime.h"

namespace stash::agent {

struct PodmanOptions {
  std::string podman = "podman";  // a path, or a name looked up in PATH
  std::string runtime = "runc";
  // Written by the runtime: containers.conf lives here.
  std::string state_dir;
  // The label value that marks this node's sandboxes and containers.
  std::string node_id;
  // Per call (pulls have their own timeout).
  std::chrono::seconds call_timeout{120};
};

class PodmanRuntime : public ContainerRuntime {
 public:
  explicit PodmanRuntime(PodmanOptions options);

  std::string Describe() const override;
  Status Check(const std::string& image) override;
  Result<std::string> ImageId(const std::string& image) override;
  Status PullImage(const std::string& image, std::chrono::seconds timeout) override;
  Result<std::vector<std::string>> LoadImage(const std::string& archive) override;
  Result<std::string> EnsureSandbox(const SandboxSpec& spec) override;
  Status RemoveSandbox(const std::string& id) override;
  Result<std::vector<SandboxInfo>> ListSandboxes() override;
  Result<std::string> StartContainer(const ContainerSpec& spec) override;
  Status StopContainer(const std::string& id, std::chrono::seconds grace) override;
  Status RemoveContainer(const std::string& id) override;
  Result<std::vector<ContainerInfo>> ListContainers() override;
  Result<std::unique_ptr<ExecProcess>> Exec(const std::string& id,
                                            const std::vector<std::string>& command, bool tty,
                                            bool stdin) override;

  // Kubernetes' image reference rules: "busybox" is
  // "docker.io/library/busybox:latest", "me/app" is "docker.io/me/app:latest",
  // a reference with a registry host or a digest keeps it.
  static std::string NormalizeImage(const std::string& image);

  // What `podman ps -a --format json` and `podman pod ps --format json`
  // printed, as the node's records (podman's infra containers and our check
  // pod's are left out). kUnavailable naming the member when podman's JSON is
  // not what podman 4 prints ("podman ps: [2].ExitCode: expected an integer,
  // got string").
  static Result<std::vector<ContainerInfo>> ParseContainers(const std::string& text);
  static Result<std::vector<SandboxInfo>> ParseSandboxes(const std::string& text);

  // The podman command line for `spec` (without the podman binary).
  std::vector<std::string> CreateArgs(const ContainerSpec& spec, const std::string& sandbox_id,
                                      const std::string& image_user) const;

 private:
  struct Output {
    int code = -1;
    std::string out, err;
  };
  Result<Output> Run(const std::vector<std::string>& args, std::chrono::seconds timeout) const;
  // Run, and an error carrying podman's message unless it exits 0.
  Result<std::string> RunOk(const std::vector<std::string>& args, const std::string& what) const;
  Status WriteConfig();

  PodmanOptions opts_;
  std::string podman_path_;
  std::string conf_path_;
  mutable std::string describe_;
};

}  // namespace stash::agent
