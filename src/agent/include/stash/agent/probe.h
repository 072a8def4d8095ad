// Hooks and readiness probes as kubelet runs probe handlers (kmodules' prober, which Stash's
// hooks use): httpGet and httpPost (Stash's extension: body, form) succeed on
// a status from 200 to 399, tcpSocket on a connection, exec on exit code 0.
// Where the node runs no real containers (the embedded node), exec runs the
// command as a process of the node with the container's environment, as a
// kubelet-less probe would; the pod's address is the node's.
//
//   HookTarget pod{.host = "127.0.0.1", .named_ports = {{"http", 8080}}};
//   Status s = RunHandler(*bc.spec.hooks->pre_backup, pod, std::chrono::seconds(30));
//
// Thread-safety: pure functions; each call makes its own connections.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "stash/agent/process.h"
#include "stash/apis/stash_common.h"
#include "stash/core/clock.h"
#include "stash/core/status.h"

namespace stash::agent {

// The pod a hook runs against.
struct HookTarget {
  std::string host = "127.0.0.1";          // the pod's IP, when the action names no host
  std::map<std::string, int> named_ports;  // container ports by name (IntOrString ports)
  EnvMap env;                              // the container's environment (exec)
};

// Runs the one action of `handler`. Errors say what failed and how
// ("HTTP probe failed with statuscode: 500", "command [sh -c exit 3] exited
// with 3: <its output>", "dial tcp 127.0.0.1:9: connection refused"); kInvalid
// when the handler has no action, or more than one.
Status RunHandler(const apis::Handler& handler, const HookTarget& target, Duration timeout);

// A readiness probe's verdict as kubelet keeps it: a container starts not
// Ready, turns Ready after successThreshold successes in a row (default 1)
// and not Ready again after failureThreshold failures in a row (default 3).
// The Kubelet (podman) and the node's processes keep one per container.
struct ProbeStreak {
  bool ready = false;
  int streak = 0;  // the run of equal results: > 0 successes, < 0 failures
  // Records one result of `probe`; returns whether `ready` changed.
  bool Record(bool ok, const apis::Probe& probe);
};

// kubelet's periodSeconds (default 10) and timeoutSeconds (default 1), at
// least a second each.
Duration ProbePeriod(const apis::Probe& probe);
Duration ProbeTimeout(const apis::Probe& probe);

// The container's ports by name (its spec's `ports`): what a probe's or
// hook's port given by name means.
std::map<std::string, int> NamedPorts(const apis::Container& container);

// Runs `command` in the container within `timeout`: Ok when it exits 0.
using ProbeExec = std::function<Status(const std::vector<std::string>& command, Duration timeout)>;

// Whether the probe has an action RunProbe runs (a grpc probe, not modelled,
// has none: such a container counts as Ready while running).
bool HasProbeAction(const apis::Probe& probe);

// One run of a readinessProbe, as kubelet's prober: httpGet (a status from
// 200 to 399) and tcpSocket (a connection) against `target` (the pod's
// address, the container's named ports), exec through `exec` (in the
// container: the caller's runtime), each bounded by timeoutSeconds. kInvalid
// when !HasProbeAction(probe).
Status RunProbe(const apis::Probe& probe, const HookTarget& target, const ProbeExec& exec);

// Stash's executionPolicy of post hooks (Always when empty, OnSuccess,
// OnFailure, OnFinalRetryFailure): whether a hook runs after an outcome.
// `phase` is the target's phase (Succeeded/Failed); `retry_left` the
// session's spec.retryLeft.
bool AllowedByExecutionPolicy(const std::string& policy, const std::string& phase, int retry_left);

}  // namespace stash::agent
