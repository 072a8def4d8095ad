// `stash operator`: the BackupConfiguration controller (and, with --node, the
// embedded node runtime) against any Kubernetes API server. `stash server`
// runs the same pair in-process through StartOperator().
#include <signal.h>

#include <filesystem>
#include <iostream>

#include "commands.h"
#include "stash/agent/node.h"
#include "stash/cli/app.h"
#include "stash/controller/backup_configuration_controller.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/config.h"

namespace stash::cli {

struct OperatorHandle {
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<controller::BackupConfigurationController> controller;
  std::unique_ptr<agent::NodeRuntime> node;
  SystemRandom random;  // pod names
  ~OperatorHandle() {
    if (node) node->Stop();
    if (controller) controller->Stop();
  }
};

Result<std::shared_ptr<OperatorHandle>> StartOperator(const OperatorOptions& opts, Clock& clock) {
  STASH_ASSIGN_OR_RETURN(kube::KubeConfig cfg, kube::ResolveConfig(opts.kubeconfig));
  auto h = std::make_shared<OperatorHandle>();
  h->client = std::make_unique<kube::Client>(cfg);
  h->controller =
      std::make_unique<controller::BackupConfigurationController>(*h->client, clock, opts.ns);
  h->controller->Start();
  if (opts.node) {
    if (opts.kubeconfig.empty()) {
      return InvalidError("--node needs --kubeconfig: the node's processes are given that file");
    }
    agent::NodeOptions node;
    node.data_dir = std::filesystem::absolute(opts.data_dir).string();
    node.kubeconfig_path = std::filesystem::absolute(opts.kubeconfig).string();
    node.stash_binary = opts.stash_binary;
    node.in_process_triggers = opts.in_process_triggers;
    h->node = std::make_unique<agent::NodeRuntime>(*h->client, clock, h->random, node);
    h->node->Start();
  }
  return h;
}

void RegisterOperator(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "operator", "Run the Stash operator (BackupConfiguration controller) against an API server");
  auto opts = std::make_shared<OperatorOptions>();
  cmd->add_option("--kubeconfig", opts->kubeconfig,
                  "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  cmd->add_option("--namespace", opts->ns, "Watch only this namespace (default: all)");
  cmd->add_flag("--node", opts->node,
                "Also run the embedded node: PVC directories and stash's containers as processes");
  cmd->add_option("--data-dir", opts->data_dir, "Embedded node's data directory")
      ->capture_default_str();
  cmd->add_flag("--in-process-triggers", opts->in_process_triggers,
                "Run the trigger CronJobs' create-backupsession inside the node instead of as a "
                "process per tick (for thousands of BackupConfigurations)");
  cmd->callback([opts, exit_code] {
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    RealClock clock;
    auto handle = StartOperator(*opts, clock);
    if (!handle.ok()) {
      std::cerr << "stash operator: " << handle.status().message() << "\n";
      *exit_code = kExitError;
      return;
    }
    std::cerr << "stash operator: running" << (opts->node ? " with the embedded node" : "") << "\n";
    int sig = 0;
    sigwait(&stop_set, &sig);
    std::cerr << "stash operator: shutting down\n";
    handle->reset();
    *exit_code = kExitOk;
  });
}

}  // namespace stash::cli
