// `stash run-backup`: the backup sidecar injected into workloads.
#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "commands.h"
#include "restic_options.h"
#include "signals.h"
#include "stash/agent/engine_runner.h"
#include "stash/agent/metrics_push.h"
#include "stash/agent/pods.h"
#include "stash/agent/sidecar.h"
#include "stash/backend/cache.h"
#include "stash/cli/app.h"
#include "stash/core/clock.h"
#include "stash/core/metrics.h"
#include "stash/core/random.h"
#include "stash/kube/config.h"

namespace stash::cli {

namespace {

// The sidecar's options from the flags and the pod's environment.
Result<agent::SidecarOptions> PodOptions(agent::SidecarOptions so, const kube::KubeConfig& cfg) {
  ThisPod pod = PodFromEnvironment(so.ns, cfg);
  so.ns = pod.ns;
  if (so.target_ns.empty()) so.target_ns = so.ns;
  so.pod_name = pod.name;
  so.node_name = pod.node;
  so.data_dir = Env(agent::kDataDirEnv);
  if (std::string file = Env(agent::kNotReadyFileEnv); !file.empty()) so.not_ready_file = file;
  // How long the caches' watches last (client-go: 5-10 min): a shorter one
  // meets a Role's change sooner.
  if (std::string t = Env("STASH_WATCH_TIMEOUT_SECONDS"); !t.empty()) {
    so.watch_timeout_seconds = std::atoi(t.c_str());
  }
  STASH_ASSIGN_OR_RETURN(so.path_map, agent::PathMap::FromEnvironment());
  return so;
}

// How the sidecar reaches an engine (run-backup's flags).
struct RunnerFlags {
  std::string engine;  // a restic-compatible binary; empty: stash's engine in process
  bool enable_cache = true;
  int max_connections = 0;
};

// stash's own engine in this process, or the restic-compatible binary.
// `cache_dir` empty: no cache. `cancel` stops a running backup.
std::unique_ptr<agent::BackupRunner> MakeRunner(const RunnerFlags& f, const std::string& cache_dir,
                                                Clock& clock, Random& random,
                                                const std::atomic<bool>* cancel) {
  agent::EnvMap env;
  if (f.max_connections > 0) env["STASH_MAX_CONNECTIONS"] = std::to_string(f.max_connections);
  if (!f.engine.empty()) {
    auto runner = std::make_unique<agent::CliBackupRunner>(f.engine, env, cancel);
    if (f.enable_cache) {
      runner->SetGlobalArgs(cache_dir.empty() ? std::vector<std::string>{}
                                              : std::vector<std::string>{"--cache-dir", cache_dir});
    }
    return runner;
  }
  // As `stash backup`: the backup's large, short-lived buffers stay mmap'ed
  // so freeing them returns the memory to this long-lived process.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  agent::EngineRunnerOptions ro;
  ro.base_env = ProcessEnvironment();  // the stores see it, as a child `stash backup` did
  for (const auto& [k, v] : env) ro.base_env[k] = v;
  if (f.enable_cache) {
    if (!cache_dir.empty()) {
      ro.cache_dir = cache_dir;
    } else if (auto d = backend::DefaultCacheDir(ro.base_env); d.ok()) {
      ro.cache_dir = *d;  // restic's default, as a real pod's restic would use
    }
  }
  ro.cancel = cancel;
  return std::make_unique<agent::EngineBackupRunner>(clock, random, std::move(ro));
}

// Runs the sidecar until SIGTERM/SIGINT; the exit code.
int RunSidecar(const kube::KubeConfig& cfg, const RunnerFlags& flags, agent::SidecarOptions so) {
  std::atomic<bool> stop{false};
  // Stops the running backup: on SIGTERM, and at a session's deadline (the
  // sidecar sets it).
  std::atomic<bool> cancel{false};
  so.cancel = &cancel;
  RealClock clock;
  StopSignals signals;  // before any thread starts; after what OnStop touches
  signals.OnStop([&](int) {
    stop = true;
    cancel = true;
    clock.Interrupt();
  });
  kube::Client client(cfg);
  SystemRandom random;
  // The node's data directory outlives the pod: a scheduled backup finds the
  // index, snapshots and trees of the last one there.
  const std::string cache_dir = so.data_dir.empty() ? "" : so.data_dir + "/restic-cache";
  std::unique_ptr<agent::BackupRunner> runner =
      MakeRunner(flags, cache_dir, clock, random, &cancel);
  agent::BackupSidecar sidecar(client, clock, *runner, so);
  Status s = sidecar.Run(stop);
  if (!s.ok()) {
    std::cerr << "stash run-backup: " << s.message() << "\n";
    return kExitError;
  }
  return kExitOk;
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
                  "else stash's own engine, in this process)");
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
    auto so = cfg.ok() ? PodOptions(o->sidecar, *cfg) : Result<agent::SidecarOptions>(cfg.status());
    if (!so.ok()) {
      std::cerr << "stash run-backup: " << so.status().message() << "\n";
      *exit_code = kExitError;
      return;
    }
    auto labels = ParseMetricLabels(o->metrics_labels);
    if (!labels.ok()) {
      std::cerr << "stash run-backup: --metrics-labels: " << labels.status().message() << "\n";
      *exit_code = kExitUsage;
      return;
    }
    so->metrics_enabled = o->metrics;
    so->pushgateway_url = o->pushgateway_url;
    so->metrics_labels = *labels;
    RunnerFlags flags;
    flags.engine = o->engine.empty() ? Env("STASH_BACKUP_ENGINE") : o->engine;
    flags.enable_cache = o->enable_cache;
    flags.max_connections = o->max_connections;
    *exit_code = RunSidecar(*cfg, flags, *so);
  });
}

}  // namespace stash::cli
