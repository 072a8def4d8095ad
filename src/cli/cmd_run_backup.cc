// `stash run-backup`: the backup sidecar injected into workloads.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "commands.h"
#include "signals.h"
#include "stash/agent/metrics_push.h"
#include "stash/agent/sidecar.h"
#include "stash/cli/app.h"
#include "stash/core/clock.h"
#include "stash/core/metrics.h"
#include "stash/core/random.h"
#include "stash/kube/config.h"

namespace stash::cli {

std::string PodNamespace(const std::string& flag, const kube::KubeConfig& cfg);

namespace {
std::string Env(const char* k) {
  const char* v = std::getenv(k);
  return v ? v : "";
}
}  // namespace

void RegisterRunBackup(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "run-backup", "Run the backup sidecar: process the BackupSessions of an invoker");
  struct Opts {
    agent::SidecarOptions sidecar;
    std::string kubeconfig, engine;
    bool enable_cache = true, metrics = false;
    int max_connections = 0;
    std::string pushgateway_url;
    std::vector<std::string> metrics_labels;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--invoker-name", o->sidecar.invoker_name, "BackupConfiguration name")
      ->required();
  cmd->add_option("--invoker-kind", o->sidecar.invoker_kind, "Invoker kind")->capture_default_str();
  cmd->add_option("--target-kind", o->sidecar.target_kind, "Target workload kind");
  cmd->add_option("--target-name", o->sidecar.target_name, "Target workload name");
  cmd->add_option("--target-namespace", o->sidecar.target_ns, "Target workload namespace");
  cmd->add_option("--namespace,-n", o->sidecar.ns, "Namespace (default: $POD_NAMESPACE)");
  cmd->add_option("--kubeconfig", o->kubeconfig, "kubeconfig file");
  cmd->add_option("--backup-engine", o->engine,
                  "restic-compatible binary that performs backups (default: $STASH_BACKUP_ENGINE, "
                  "else this stash binary)");
  cmd->add_option("--enable-cache", o->enable_cache,
                  "Keep restic's local cache of the repository between sessions (in "
                  "$STASH_DATA_DIR/restic-cache on the embedded node, else restic's default)")
      ->capture_default_str();
  cmd->add_option("--max-connections", o->max_connections,
                  "Connections to the backend at once (0: the backend's default)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--metrics-enabled", o->metrics,
                  "Push Stash's metrics of each session to the pushgateway");
  cmd->add_option("--pushgateway-url", o->pushgateway_url,
                  std::string("Pushgateway to push metrics to (default ") +
                      agent::kDefaultPushgatewayUrl + ")");
  cmd->add_option("--metrics-labels", o->metrics_labels,
                  "Labels (key=value) added to the pushed metrics (can be repeated)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->callback([o, exit_code] {
    auto cfg = kube::ResolveConfig(o->kubeconfig);
    if (!cfg.ok()) {
      std::cerr << "stash run-backup: " << cfg.status().message() << "\n";
      *exit_code = kExitError;
      return;
    }
    agent::SidecarOptions& so = o->sidecar;
    so.ns = PodNamespace(so.ns, *cfg);
    if (so.target_ns.empty()) so.target_ns = so.ns;
    so.pod_name = Env("POD_NAME");
    if (so.pod_name.empty()) {
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      so.pod_name = host;
    }
    so.node_name = Env("NODE_NAME");
    so.data_dir = Env(agent::kDataDirEnv);
    auto map = agent::PathMap::FromEnvironment();
    if (!map.ok()) {
      std::cerr << "stash run-backup: " << map.status().message() << "\n";
      *exit_code = kExitError;
      return;
    }
    so.path_map = *map;
    auto labels = ParseMetricLabels(o->metrics_labels);
    if (!labels.ok()) {
      std::cerr << "stash run-backup: --metrics-labels: " << labels.status().message() << "\n";
      *exit_code = kExitUsage;
      return;
    }
    so.metrics_enabled = o->metrics;
    so.pushgateway_url = o->pushgateway_url;
    so.metrics_labels = *labels;
    if (o->engine.empty()) o->engine = Env("STASH_BACKUP_ENGINE");

    std::atomic<bool> stop{false};
    // Stops the running backup process: on SIGTERM, and at a session's
    // deadline (the sidecar sets it).
    std::atomic<bool> cancel{false};
    so.cancel = &cancel;
    RealClock clock;
    StopSignals signals;  // before any thread starts; after what OnStop touches
    signals.OnStop([&](int) {
      stop = true;
      cancel = true;
      clock.Interrupt();
    });
    kube::Client client(*cfg);
    agent::EnvMap engine_env;
    if (o->max_connections > 0) {
      engine_env["STASH_MAX_CONNECTIONS"] = std::to_string(o->max_connections);
    }
    agent::CliBackupRunner runner(o->engine, engine_env, &cancel);
    if (o->enable_cache) {
      // The node's data directory outlives the pod: a scheduled backup finds
      // the index, snapshots and trees of the last one there. In a real pod,
      // restic's default ($RESTIC_CACHE_DIR, $XDG_CACHE_HOME, ~/.cache).
      runner.SetGlobalArgs(so.data_dir.empty() ? std::vector<std::string>{}
                                               : std::vector<std::string>{
                                                     "--cache-dir", so.data_dir + "/restic-cache"});
    }
    SystemRandom random;
    runner.SizeThroughBackend(clock, random);
    agent::BackupSidecar sidecar(client, clock, runner, so);
    Status s = sidecar.Run(stop);
    if (!s.ok()) {
      std::cerr << "stash run-backup: " << s.message() << "\n";
      *exit_code = kExitError;
      return;
    }
    *exit_code = kExitOk;
  });
}

}  // namespace stash::cli
