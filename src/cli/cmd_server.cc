// `stash server`: the embedded Kubernetes-compatible API server.
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "restic_options.h"
#include "signals.h"
#include "stash/agent/snapshot_api.h"
#include "stash/api/server.h"
#include "stash/apis/client.h"
#include "stash/cli/app.h"
#include "stash/controller/validation.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/stash_names.h"

namespace stash::cli {

// Splits "HOST:PORT" (IPv6 hosts in brackets); false when malformed.
bool SplitListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) return false;
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  try {
    size_t used = 0;
    *port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || *port < 0 || *port > 65535) return false;
  } catch (...) {
    return false;
  }
  *host = h.empty() ? "127.0.0.1" : h;
  return true;
}

namespace {

// The Snapshot API reads Repositories and Secrets straight from the store.
agent::ObjectSource StoreObjects(const api::Server& server) {
  auto get = [&server](const kube::Resource& r, const std::string& ns,
                       const std::string& name) -> Result<kube::json> {
    auto obj = server.GetStored(r.group, r.plural, ns, name);
    if (!obj) return NotFoundError(r.plural + " \"" + name + "\" not found");
    return std::move(*obj);
  };
  agent::ObjectSource s;
  s.repository = [get](const std::string& ns, const std::string& name) -> Result<apis::Repository> {
    STASH_ASSIGN_OR_RETURN(kube::json obj, get(apis::Repository::Resource(), ns, name));
    return apis::DecodeObject<apis::Repository>(obj);
  };
  s.secret = [get](const std::string& ns, const std::string& name) -> Result<apis::Secret> {
    STASH_ASSIGN_OR_RETURN(kube::json obj, get(apis::Secret::Resource(), ns, name));
    return apis::DecodeObject<apis::Secret>(obj);
  };
  s.repositories = [&server](const std::string& ns) -> Result<std::vector<apis::Repository>> {
    const kube::Resource& r = apis::Repository::Resource();
    std::vector<apis::Repository> out;
    for (const kube::json& obj : server.ListStored(r.group, r.plural, ns)) {
      STASH_ASSIGN_OR_RETURN(apis::Repository repo, apis::DecodeObject<apis::Repository>(obj));
      out.push_back(std::move(repo));
    }
    return out;
  };
  return s;
}

// "5m", "90s", "1h30m", "0": Go's duration syntax in whole seconds.
bool ParseSeconds(const std::string& text, std::chrono::seconds* out) {
  if (text == "0") {
    *out = std::chrono::seconds(0);
    return true;
  }
  long long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j - i > 9 || j == text.size()) return false;
    long long n = std::stoll(text.substr(i, j - i));
    char unit = text[j];
    if (unit == 'h') {
      total += n * 3600;
    } else if (unit == 'm') {
      total += n * 60;
    } else if (unit == 's') {
      total += n;
    } else {
      return false;
    }
    i = j + 1;
  }
  *out = std::chrono::seconds(total);
  return !text.empty();
}

struct ServerFlags {
  std::string data_dir = "stash-data";
  std::string listen = "127.0.0.1:6443";
  std::string crds_dir;
  std::string compaction_interval = "5m";
  std::string encryption_config;
  size_t max_connections = 0;
  std::string metrics_listen;   // the operator's /metrics; empty: off
  std::string pushgateway_url;  // sidecars push their sessions' metrics there; empty: off
  std::string container_runtime = "auto";
  std::vector<std::string> pass_env;
  std::string image;  // stash's image (the operator's --image); empty: the default
};

int RunServer(const ServerFlags& flags, bool run_operator, bool in_process_triggers) {
  const std::string& data_dir = flags.data_dir;
  const std::string& listen = flags.listen;
  api::ServerOptions options;
  options.data_dir = data_dir;
  options.crds_dir = flags.crds_dir;
  options.encryption_config = flags.encryption_config;
  options.max_connections = flags.max_connections;
  if (!ParseSeconds(flags.compaction_interval, &options.compaction_interval)) {
    std::cerr << "stash server: --compaction-interval must be a duration such as 5m, 90s or 0 "
                 "(got '"
              << flags.compaction_interval << "')\n";
    return kExitUsage;
  }
  // The embedded node mounts a claim's volume from <data>/node/volumes.
  options.volume_dir = (std::filesystem::absolute(data_dir) / "node" / "volumes").string();
  // Stash's validating webhooks, in-process: bad objects are refused at apply.
  options.admission = controller::StashAdmissionPlugins();
  if (!SplitListen(listen, &options.host, &options.port)) {
    std::cerr << "stash server: --listen must be HOST:PORT, e.g. 127.0.0.1:6443 (got '" << listen
              << "')\n";
    return kExitUsage;
  }
  // What the server and its node create in the data directory (state,
  // logs, PVC directories) is its user's alone; restores set their files'
  // modes explicitly.
  ::umask(077);
  StopSignals signals;  // before any thread starts: none of them gets the signals

  RealClock clock;
  SystemRandom random;
  api::Server server(options, clock, random);
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "stash server: " << s.message() << "\n";
    return kExitError;
  }
  std::string kubeconfig = std::filesystem::absolute(server.kubeconfig_path()).string();
  const std::string node_dir = (std::filesystem::absolute(data_dir) / "node").string();
  server.AddProvider(agent::SnapshotApi::Definition(),
                     std::make_shared<agent::SnapshotApi>(
                         StoreObjects(server), clock, random,
                         agent::SnapshotApiOptions{node_dir, ProcessEnvironment()}));
  // The operator and the embedded node talk to this server like any client.
  OperatorOptions op;
  op.kubeconfig = kubeconfig;
  op.node = true;
  op.in_process_triggers = in_process_triggers;
  op.container_runtime = flags.container_runtime;
  op.pass_env = flags.pass_env;
  op.data_dir = node_dir;
  op.metrics_listen = flags.metrics_listen;
  op.pushgateway_url = flags.pushgateway_url;
  op.image = flags.image;
  if (run_operator) {
    // The node's state (logs, pod directories) is the server's alone, as
    // the rest of the data directory.
    std::error_code ec;
    std::filesystem::create_directories(op.data_dir + "/logs", ec);
    ::chmod(op.data_dir.c_str(), 0700);
    ::chmod((op.data_dir + "/logs").c_str(), 0700);
  }
  Result<std::shared_ptr<OperatorHandle>> op_handle = std::shared_ptr<OperatorHandle>();
  if (run_operator) op_handle = StartOperator(op, clock);
  if (!op_handle.ok()) {
    std::cerr << "stash server: starting the operator: " << op_handle.status().message() << "\n";
    server.Stop();
    return kExitError;
  }
  if (run_operator) server.SetPodStreams(OperatorStreams(**op_handle));
  if (run_operator) {
    std::cerr << "stash server: operator and embedded node running; volumes under " << op.data_dir
              << "/volumes\n";
  }
  std::cerr << "stash server: serving the Kubernetes API on " << server.url() << "\n"
            << "stash server: kubeconfig written to " << kubeconfig << "\n"
            << "export KUBECONFIG=" << kubeconfig << "\n"
            << std::flush;
  const int sig = signals.Wait();
  std::cerr << "stash server: " << (sig == SIGINT ? "interrupted" : "terminated")
            << ", shutting down\n";
  server.SetPodStreams(nullptr);
  op_handle->reset();
  server.Stop();
  return kExitOk;
}

}  // namespace

void RegisterServer(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand("server", "Run the embedded Kubernetes-compatible API server");
  auto flags = std::make_shared<ServerFlags>();
  cmd->add_option("--data-dir", flags->data_dir,
                  "State, TLS credentials and the kubeconfig live here")
      ->capture_default_str();
  cmd->add_option("--listen", flags->listen, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--crds-dir", flags->crds_dir,
                  "Install the CRDs of this directory instead of the built-in deploy/crds");
  cmd->add_option("--compaction-interval", flags->compaction_interval,
                  "Compact the watch history every interval, as kube-apiserver's "
                  "--etcd-compaction-interval (0: only the history's size bounds apply)")
      ->capture_default_str();
  cmd->add_option("--encryption-provider-config", flags->encryption_config,
                  "EncryptionConfiguration file for data at rest, as kube-apiserver's (default: "
                  "<data-dir>/encryption-config.yaml, created with a new aesgcm key for secrets)");
  cmd->add_option("--max-connections", flags->max_connections,
                  "Open client connections at most (default: from the open-file limit)");
  // Embedded mode is the whole system: the operator and the embedded node run
  // by default; --no-operator serves the bare API (as a cluster's apiserver).
  auto run_operator = std::make_shared<bool>(true);
  cmd->add_flag("--operator,!--no-operator", *run_operator,
                "Run the Stash operator and the embedded node (PVC directories, stash's "
                "containers as processes) against this server (default; --no-operator: API only)");
  cmd->add_option("--metrics-listen", flags->metrics_listen,
                  "Serve the operator's Prometheus metrics at /metrics on [HOST]:PORT, e.g. "
                  "127.0.0.1:8080 (default: off)");
  cmd->add_option("--pushgateway-url", flags->pushgateway_url,
                  "Make backup sidecars push each session's Stash metrics to this Prometheus "
                  "pushgateway, e.g. http://127.0.0.1:9091 (default: off)");
  auto in_process_triggers = std::make_shared<bool>(true);
  cmd->add_flag("--in-process-triggers,!--trigger-processes", *in_process_triggers,
                "Run the trigger CronJobs' create-backupsession inside the embedded node, with "
                "the CronJob's ServiceAccount token (default); --trigger-processes runs each "
                "tick as Kubernetes does instead: a Job whose pod runs from the stash image "
                "when the node runs stash's containers from it, else a process per tick");
  AddContainerRuntimeOption(cmd, &flags->container_runtime);
  AddPassEnvOption(cmd, &flags->pass_env);
  cmd->add_option("--image", flags->image,
                  std::string("Stash's image, stamped into sidecars, restore init containers, "
                              "Jobs and trigger CronJobs; the embedded node runs them from it "
                              "in podman when its image store holds it, else as local "
                              "processes (default ") +
                      std::string(kube::kStashImage) + ")");
  cmd->callback([=] {
    if (!flags->pushgateway_url.empty() && !*run_operator) {
      std::cerr << "stash server: --pushgateway-url configures the operator's sidecars; it "
                   "cannot be used with --no-operator\n";
      *exit_code = kExitUsage;
      return;
    }
    if (!flags->image.empty() && !*run_operator) {
      std::cerr << "stash server: --image configures the operator's containers; it cannot be "
                   "used with --no-operator\n";
      *exit_code = kExitUsage;
      return;
    }
    if (!flags->metrics_listen.empty() && !*run_operator) {
      std::cerr << "stash server: --metrics-listen serves the operator's metrics; it cannot be "
                   "used with --no-operator\n";
      *exit_code = kExitUsage;
      return;
    }
    *exit_code = RunServer(*flags, *run_operator, *in_process_triggers);
  });
}

}  // namespace stash::cli
