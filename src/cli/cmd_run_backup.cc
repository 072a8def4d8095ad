// `stash run-backup`: the backup sidecar injected into workloads.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "commands.h"
#include "signals.h"
#include "stash/agent/sidecar.h"
#include "stash/cli/app.h"
#include "stash/core/clock.h"
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
  // Accepted for compatibility with Stash's sidecar arguments.
  cmd->add_option("--enable-cache", o->enable_cache, "Use a cache (accepted)");
  cmd->add_option("--max-connections", o->max_connections, "Backend connections (accepted)");
  cmd->add_option("--metrics-enabled", o->metrics, "Push metrics (accepted)");
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
    if (o->engine.empty()) o->engine = Env("STASH_BACKUP_ENGINE");

    std::atomic<bool> stop{false};
    RealClock clock;
    StopSignals signals;  // before any thread starts; after what OnStop touches
    signals.OnStop([&](int) {
      stop = true;
      clock.Interrupt();
    });
    kube::Client client(*cfg);
    agent::CliBackupRunner runner(o->engine, {}, &stop);
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
