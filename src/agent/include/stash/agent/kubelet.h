// Kubelet: the pod lifecycle of the embedded node on a ContainerRuntime, as
// Kubernetes' kubelet runs it:
//  - each Pod is a sandbox (a podman pod) with its containers; init
//    containers run one at a time, in order, each to success, before the
//    app containers start;
//  - a container's image must be in the node's store or be pulled (bounded;
//    ErrImagePull, then ImagePullBackOff with the engine's message);
//  - env (value, valueFrom Secret/ConfigMap/fieldRef, envFrom, $(VAR)
//    references), workingDir, securityContext runAsUser/runAsGroup (the
//    pod's as default), volumes (PVC host directories, emptyDir, hostPath,
//    Secret and ConfigMap files, the ServiceAccount token at
//    /var/run/secrets/kubernetes.io/serviceaccount with
//    KUBERNETES_SERVICE_HOST/PORT) become the container's; a Secret or
//    ConfigMap that is missing is CreateContainerConfigError;
//  - exited containers restart by the pod's restartPolicy with kubelet's
//    back-off (immediately the first time, then 10 s doubling to 5 min,
//    reset after 10 min of running): CrashLoopBackOff meanwhile; one exited
//    attempt is kept for `kubectl logs --previous`;
//  - containers of pods no longer given (deleted, moved, replaced) are
//    stopped within their grace period and removed with their sandbox;
//  - a running container with a readinessProbe is Ready only while the
//    probe says so (exec: run in the container; httpGet: a status from 200
//    to 399 from the pod's address, the node's, at the port by number or
//    by the container's port name; tcpSocket: a connection), run every
//    periodSeconds, bounded by timeoutSeconds, flipping after
//    successThreshold / failureThreshold equal results, as kubelet's
//    (stash's sidecar's is exec: `stash sidecar-ready`).
// Everything is re-derived from the runtime's listing on each pass, so a
// node restarted after a crash adopts the containers still running (same
// attempt, same restart count) instead of starting duplicates.
//
// StatesFor gives each container's state (running, waiting with kubelet's
// reason, terminated with exit code, restart count, last state) for
// PodStatusFor (pods.h), the one place pod statuses are made.
//
// Thread-safety: Sync and StatesFor from one thread (the node's kubelet
// loop); FindContainer may be called from any thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "stash/agent/container_runtime.h"
#include "stash/agent/pods.h"
#include "stash/agent/probe.h"
#include "stash/apis/core.h"
#include "stash/core/clock.h"

namespace stash::agent {

// Where kubelet mounts a pod's ServiceAccount token, ca.crt and namespace.
inline constexpr const char* kServiceAccountMountPath =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// Writes `files` (name → bytes) into `dir` with `mode`, each atomically (a
// reader sees the old or the new file), and removes files no longer listed.
Status WriteVolumeFiles(const std::string& dir, const std::map<std::string, std::string>& files,
                        int mode);

// What pods refer to by name: Secrets, ConfigMaps and ServiceAccount tokens
// (the API server in the node; a fixed table in tests of the pod logic).
class PodSources {
 public:
  virtual ~PodSources() = default;
  // Decoded data; kNotFound when the object does not exist.
  virtual Result<std::map<std::string, std::string>> SecretData(const std::string& ns,
                                                                const std::string& name) = 0;
  virtual Result<std::map<std::string, std::string>> ConfigMapData(const std::string& ns,
                                                                   const std::string& name) = 0;
  // A token of ServiceAccount ns/account bound to the pod (TokenRequest);
  // `pod_uid` empty: bound to no object.
  virtual Result<std::string> ServiceAccountToken(const std::string& ns, const std::string& account,
                                                  const std::string& pod_name,
                                                  const std::string& pod_uid) = 0;
};

struct KubeletOptions {
  std::string data_dir;  // PVC host directories are data_dir/volumes/<ns>/<claim>
  std::string pods_dir;  // per pod: volumes and logs
  std::string node_name = "stash-embedded-node";
  std::string host_ip = "127.0.0.1";
  // How containers reach the API server (KUBERNETES_SERVICE_HOST/PORT) and
  // the CA that signs its certificate (ca.crt of the token volume).
  std::string api_host = "127.0.0.1";
  int api_port = 6443;
  std::string ca_pem;
  std::chrono::seconds pull_timeout{120};
  // Containers of this image (stash's own) get `stash_env` too, before
  // their spec's env (which overrides it): the server's variables named by
  // --pass-env (NodeOptions::pass_env), e.g. a storage emulator's address.
  std::string stash_image;
  std::vector<std::pair<std::string, std::string>> stash_env;
};

class Kubelet {
 public:
  Kubelet(ContainerRuntime& runtime, PodSources& sources, Clock& clock, KubeletOptions opts);
  ~Kubelet();

  // One pass: `pods` are the Pod objects bound to this node that should
  // run; every other container of this node is stopped and removed.
  // Returns false when the runtime could not be listed (nothing was done).
  bool Sync(const std::vector<apis::Pod>& pods);

  // The state of `pod`'s containers and init containers after the last
  // Sync, by container name.
  void StatesFor(const apis::Pod& pod, std::map<std::string, ContainerState>* states,
                 std::map<std::string, ContainerState>* init_states) const;

  // The runtime's id of the pod's container (its newest attempt, or the one
  // before with `previous`), and its CRI log file.
  struct Found {
    std::string id;
    std::string log_path;
    bool running = false;
  };
  Result<Found> FindContainer(const std::string& ns, const std::string& pod,
                              const std::string& container, bool previous) const;

 private:
  struct Backoff {
    std::string reason, message;  // why the container is waiting
  };
  // A pull in flight on its own thread; the other members are written by
  // that thread before `running` turns false and read by the loop after.
  struct Pull {
    std::atomic<bool> running{false};
    Status last = Status::Ok();
    int failures = 0;
    SystemTime failed_at{}, retry_at{};
    std::thread worker;
  };

  void SyncPod(const apis::Pod& pod, std::vector<const ContainerInfo*>& mine);
  // Starts attempt `attempt` of `c` unless its image or config is not ready
  // (then records why in waiting_). Returns whether it was started.
  bool StartAttempt(const apis::Pod& pod, const apis::Container& c, bool init, int attempt);
  // True when the image can be used now; starts or paces a pull otherwise.
  bool ImageReady(const std::string& key, const apis::Container& c);
  void RemoveStale(const std::set<std::string>& keep_uids);
  Result<ContainerSpec> BuildSpec(const apis::Pod& pod, const apis::Container& c, bool init,
                                  int attempt);
  Result<std::vector<Mount>> Volumes(const apis::Pod& pod, const apis::Container& c);
  Result<std::vector<std::pair<std::string, std::string>>> Env(const apis::Pod& pod,
                                                               const apis::Container& c);
  Status WriteServiceAccountVolume(const apis::Pod& pod, const std::string& dir);
  // The back-off delay before attempt `attempt + 1` of a container that
  // exited after running from `started` to `finished`.
  static std::chrono::seconds RestartDelay(int attempt, SystemTime started, SystemTime finished);

  ContainerState StateOf(const apis::Pod& pod, const apis::Container& c, bool init) const;
  // Runs the due readiness probes of `pod`'s running containers.
  void ProbeReadiness(const apis::Pod& pod);
  // Runs `command` in container `id`: Ok when it exits 0 within `timeout`.
  Status ExecProbe(const std::string& id, const std::vector<std::string>& command,
                   std::chrono::seconds timeout);
  std::string Key(const std::string& uid, const std::string& name) const {
    return uid + "/" + name;
  }

  ContainerRuntime& runtime_;
  PodSources& sources_;
  Clock& clock_;
  KubeletOptions opts_;
  mutable std::mutex mu_;                               // guards listing_ (FindContainer)
  std::vector<ContainerInfo> listing_;                  // the runtime's containers, last pass
  std::map<std::string, Backoff> waiting_;              // uid/name: why not running now
  std::map<std::string, std::string> start_errors_;     // container id → the engine's message
  std::map<std::string, std::unique_ptr<Pull>> pulls_;  // by image
  std::map<std::string, SystemTime> tokens_written_;    // pod uid → token refresh time
  // A probed container's readiness, by container id: the verdict and the
  // next probe.
  struct Readiness {
    ProbeStreak verdict;
    SystemTime next{};
  };
  std::map<std::string, Readiness> readiness_;
};

}  // namespace stash::agent

namespace stash::agent {

// PodSources read from the API server through `client` (the node's
// credentials): Secrets and ConfigMaps by GET, tokens by TokenRequest bound
// to the pod, one hour long.
class ApiPodSources : public PodSources {
 public:
  explicit ApiPodSources(const kube::Client& client) : client_(client) {}
  Result<std::map<std::string, std::string>> SecretData(const std::string& ns,
                                                        const std::string& name) override;
  Result<std::map<std::string, std::string>> ConfigMapData(const std::string& ns,
                                                           const std::string& name) override;
  Result<std::string> ServiceAccountToken(const std::string& ns, const std::string& account,
                                          const std::string& pod_name,
                                          const std::string& pod_uid) override;
  // The same, `seconds` long.
  Result<std::string> Token(const std::string& ns, const std::string& account,
                            const std::string& pod_name, const std::string& pod_uid,
                            int64_t seconds);

 private:
  const kube::Client& client_;
};

}  // namespace stash::agent
