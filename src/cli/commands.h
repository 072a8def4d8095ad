// Private to cli: the global options every command sees, and the per-command
// registration functions (one file per command, cmd_<name>.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "stash/agent/podman.h"
#include "stash/api/pod_streams.h"
#include "stash/core/clock.h"
#include "stash/core/result.h"
#include "stash/kube/config.h"

namespace stash::cli {

struct GlobalOptions {
  std::string log_level = "warn";
};

// Each Register* adds one subcommand to `app`. The callback it installs sets
// `*exit_code`.
using Registrar = std::function<void(CLI::App& app, GlobalOptions& global, int* exit_code)>;

void RegisterVersion(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterBackup(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterInit(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterServer(CLI::App& app, GlobalOptions& global, int* exit_code);
// Read-side restic verbs (cmd_snapshots.cc, cmd_ls.cc, cmd_cat.cc, cmd_dump.cc,
// cmd_restore.cc, cmd_check.cc, cmd_stats.cc).
void RegisterSnapshots(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterLs(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterCat(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterDump(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterRestore(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterCheck(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterStats(CLI::App& app, GlobalOptions& global, int* exit_code);
// Retention and maintenance (cmd_forget.cc, cmd_prune.cc, cmd_unlock.cc).
void RegisterForget(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterPrune(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterUnlock(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterCache(CLI::App& app, GlobalOptions& global, int* exit_code);

// The operator and its agents (cmd_operator.cc, cmd_run_backup.cc,
// cmd_create_backupsession.cc). StartOperator runs the controller (and the
// embedded node) in-process, for `stash server`; dropping the handle stops it.
void RegisterOperator(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterNode(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterRunBackup(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterSidecarReady(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterRunRestore(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterCreateBackupSession(CLI::App& app, GlobalOptions& global, int* exit_code);

// The pod an agent command (run-backup, run-restore, create-backupsession)
// runs in, as the Downward API variables tell it (cmd_create_backupsession.cc):
// the namespace is `ns_flag`, else $POD_NAMESPACE, else the kubeconfig's (or
// ServiceAccount's); the name $POD_NAME, else the hostname (a pod's hostname
// is its name); the node $NODE_NAME.
struct ThisPod {
  std::string ns, name, node;
};
ThisPod PodFromEnvironment(const std::string& ns_flag, const kube::KubeConfig& cfg);
struct OperatorOptions {
  std::string kubeconfig;  // empty: $KUBECONFIG / in-cluster
  std::string ns;          // empty: all namespaces
  bool node = false;       // also run the embedded node runtime
  std::string data_dir = "stash-data";
  std::string stash_binary;         // empty: this executable
  bool in_process_triggers = true;  // agent::NodeOptions::in_process_triggers
  std::string image;                // stash's image in sidecars/CronJobs; empty: the default
  // The validating admission webhook (cluster mode): HOST:PORT to serve on,
  // empty for none; its certificate directory; the Service DNS name the API
  // server calls; the ValidatingWebhookConfiguration whose caBundle to set.
  std::string webhook_listen;
  std::string webhook_cert_dir = "stash-webhook-certs";
  std::string webhook_service = "stash-operator.stash.svc";
  std::string webhook_configuration = "admission.stash.appscode.com";
  // NAMESPACE/NAME of a kubernetes.io/tls Secret holding the webhook's
  // certificate for every replica (created by the first); empty: none.
  std::string webhook_cert_secret;
  // Stash's Snapshot API as an aggregated API (cluster mode): HOST:PORT to
  // serve on with the webhook's certificate, empty for none; the APIService
  // whose caBundle to set.
  std::string snapshot_api_listen;
  std::string apiservice = "v1alpha1.repositories.stash.appscode.com";
  // Serve Prometheus metrics (Stash's families from the cluster's objects,
  // and the operator's own) on [HOST]:PORT; empty: off.
  std::string metrics_listen;
  std::vector<std::string> metrics_labels;  // key=value added to Stash's series
  std::string pushgateway_url;  // sidecars push their sessions' metrics there; empty: off
  // What runs the containers of other images: auto (podman when it can run
  // a container here), podman (required), none.
  std::string container_runtime = "auto";
  // Variables of this process's environment the node's stash processes get
  // too (agent::NodeOptions::pass_env).
  std::vector<std::string> pass_env;
};
// Adds --container-runtime to `cmd`.
void AddContainerRuntimeOption(CLI::App* cmd, std::string* value);
// Adds --pass-env to `cmd`.
void AddPassEnvOption(CLI::App* cmd, std::vector<std::string>* names);
struct OperatorHandle;
// Splits "HOST:PORT" (IPv6 hosts in brackets); false when malformed.
bool SplitListen(const std::string& listen, std::string* host, int* port);
Result<std::shared_ptr<OperatorHandle>> StartOperator(const OperatorOptions& opts, Clock& clock);
// kubectl logs/exec of the node's runtime containers; null without one.
api::PodStreams* OperatorStreams(const OperatorHandle& handle);
// podman for the embedded node whose data directory is `node_dir`.
agent::PodmanOptions NodePodmanOptions(const std::string& node_dir);

}  // namespace stash::cli
