// `stash run-restore`: the restore init container `stash-init` (and the
// restore Job's container) of a RestoreSession.
#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "restic_options.h"
#include "signals.h"
#include "stash/agent/repository.h"
#include "stash/agent/restore_init.h"
#include "stash/cli/app.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/config.h"

namespace stash::cli {

namespace {

int RunRestoreInit(agent::RestoreInitOptions o, const std::string& kubeconfig,
                   const std::string& invoker_kind) {
  if (invoker_kind != "RestoreSession") {
    std::cerr << "stash run-restore: --invoker-kind " << invoker_kind
              << " is not supported (only RestoreSession; RestoreBatch is not implemented)\n";
    return kExitUsage;
  }
  auto cfg = kube::ResolveConfig(kubeconfig);
  if (!cfg.ok()) {
    std::cerr << "stash run-restore: " << cfg.status().message() << "\n";
    return kExitError;
  }
  ThisPod pod = PodFromEnvironment(o.ns, *cfg);
  o.ns = pod.ns;
  o.pod_name = pod.name;
  o.node_name = pod.node;
  // A restore Job of a StatefulSet's claims restores host-<POD_ORDINAL>.
  if (std::string ordinal = Env("POD_ORDINAL"); o.host.empty() && !ordinal.empty()) {
    o.host = "host-" + ordinal;
  }
  o.data_dir = Env(agent::kDataDirEnv);
  auto map = agent::PathMap::FromEnvironment();
  if (!map.ok()) {
    std::cerr << "stash run-restore: " << map.status().message() << "\n";
    return kExitError;
  }
  o.path_map = *map;
  o.env = ProcessEnvironment();

  std::atomic<bool> stop{false};
  RealClock clock;
  SystemRandom random;
  StopSignals signals;  // before any thread starts; after what OnStop touches
  signals.OnStop([&](int) {
    stop = true;
    clock.Interrupt();
  });
  kube::Client client(*cfg);
  agent::RestoreInit init(client, clock, random, o);
  auto outcome = init.Run(stop);
  if (!outcome.ok()) {
    std::cerr << "stash run-restore: restore of host " << init.HostName()
              << " not done: " << outcome.status().message() << " (will be retried)\n";
    return kExitError;
  }
  if (*outcome == agent::RestoreOutcome::kFailed) {
    // The reason is in the RestoreSession's stats and events; failing once
    // makes it visible on the pod too (its retry then lets the pod start).
    std::cerr << "stash run-restore: restore of host " << init.HostName()
              << " failed: " << init.failure() << " (recorded in RestoreSession " << o.ns << "/"
              << o.invoker_name << "; the pod starts on the next attempt)\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterRunRestore(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "run-restore",
      "Restore one host of a RestoreSession (the stash-init init container / restore Job)");
  struct Opts {
    agent::RestoreInitOptions init;
    std::string kubeconfig, invoker_kind = "RestoreSession", target_ns;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--invoker-name", o->init.invoker_name, "RestoreSession name")->required();
  cmd->add_option("--invoker-kind", o->invoker_kind, "Invoker kind")->capture_default_str();
  cmd->add_option("--target-kind", o->init.target_kind, "Target kind")->required();
  cmd->add_option("--target-name", o->init.target_name, "Target name")->required();
  cmd->add_option("--target-namespace", o->target_ns,
                  "Target namespace (must be the RestoreSession's)");
  cmd->add_option("--host", o->init.host,
                  "Host to restore (default: Stash's name for this pod; $POD_ORDINAL gives "
                  "host-<ordinal>)");
  cmd->add_option("--namespace,-n", o->init.ns, "Namespace (default: $POD_NAMESPACE)");
  cmd->add_option("--kubeconfig", o->kubeconfig, "kubeconfig file");
  cmd->add_flag("--restore-job", o->init.job,
                "Run by a restore Job, not as the workload's stash-init init container (what a "
                "refused call's condition and event name)");
  cmd->callback([o, exit_code] {
    if (!o->target_ns.empty() && !o->init.ns.empty() && o->target_ns != o->init.ns) {
      std::cerr << "stash run-restore: --target-namespace " << o->target_ns
                << " differs from the RestoreSession's namespace " << o->init.ns << "\n";
      *exit_code = kExitUsage;
      return;
    }
    if (o->init.ns.empty()) o->init.ns = o->target_ns;
    *exit_code = RunRestoreInit(o->init, o->kubeconfig, o->invoker_kind);
  });
}

}  // namespace stash::cli
