// `stash create-backupsession`: what the trigger CronJob runs at each tick.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "restic_options.h"
#include "stash/agent/trigger.h"
#include "stash/cli/app.h"
#include "stash/core/clock.h"
#include "stash/kube/config.h"

namespace stash::cli {

ThisPod PodFromEnvironment(const std::string& ns_flag, const kube::KubeConfig& cfg) {
  ThisPod pod{ns_flag, Env("POD_NAME"), Env("NODE_NAME")};
  if (pod.ns.empty()) pod.ns = Env("POD_NAMESPACE");
  if (pod.ns.empty()) pod.ns = cfg.namespace_;
  if (pod.name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    pod.name = host;
  }
  return pod;
}

void RegisterCreateBackupSession(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand("create-backupsession",
                                 "Create a BackupSession for a backup invoker (run by the trigger "
                                 "CronJob); while the invoker is paused, only record an event");
  struct Opts {
    agent::TriggerOptions trigger;
    std::string kubeconfig;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--invoker-name", o->trigger.invoker_name, "BackupConfiguration name")
      ->required();
  cmd->add_option("--invoker-kind", o->trigger.invoker_kind, "Invoker kind")->capture_default_str();
  cmd->add_option("--namespace,-n", o->trigger.ns, "Namespace (default: $POD_NAMESPACE)");
  cmd->add_option("--kubeconfig", o->kubeconfig, "kubeconfig file");
  cmd->callback([o, exit_code] {
    auto cfg = kube::ResolveConfig(o->kubeconfig);
    if (!cfg.ok()) {
      std::cerr << "stash create-backupsession: " << cfg.status().message() << "\n";
      *exit_code = kExitError;
      return;
    }
    o->trigger.ns = PodFromEnvironment(o->trigger.ns, *cfg).ns;
    kube::Client client(*cfg);
    RealClock clock;
    auto name = agent::CreateBackupSession(client, clock, o->trigger);
    if (!name.ok()) {
      std::cerr << "stash create-backupsession: " << name.status().message() << "\n";
      *exit_code = kExitError;
      return;
    }
    if (name->empty()) {
      std::cout << "Skipping creating BackupSession. Reason: Backup Configuration " << o->trigger.ns
                << "/" << o->trigger.invoker_name << " is paused.\n";
    } else {
      std::cout << "backupsession.stash.appscode.com/" << *name << " created\n";
    }
    *exit_code = kExitOk;
  });
}

}  // namespace stash::cli
