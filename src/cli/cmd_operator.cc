// `stash operator`: the BackupConfiguration and RestoreSession controllers (and, with --node, the
// embedded node runtime) against any Kubernetes API server. `stash server`
// runs the same pair in-process through StartOperator().
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <tuple>

#include "commands.h"
#include "metrics_server.h"
#include "operator_health.h"
#include "operator_leader.h"
#include "operator_snapshot_api.h"
#include "signals.h"
#include "stash/agent/node.h"
#include "stash/agent/podman.h"
#include "stash/api/webhook_server.h"
#include "stash/cli/app.h"
#include "stash/controller/backup_configuration_controller.h"
#include "stash/controller/restore_session_controller.h"
#include "stash/controller/stash_metrics.h"
#include "stash/controller/validation.h"
#include "stash/core/base64.h"
#include "stash/core/clock.h"
#include "stash/core/id.h"
#include "stash/core/metrics.h"
#include "stash/core/random.h"
#include "stash/crypto/sha256.h"
#include "stash/kube/config.h"
#include "stash/kube/duration.h"
#include "stash/kube/stash_names.h"

namespace stash::cli {

struct OperatorHandle {
  MetricsRegistry operator_metrics;  // the operator's own health; outlives the controller
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<controller::BackupConfigurationController> controller;
  std::unique_ptr<controller::RestoreSessionController> restores;
  std::unique_ptr<agent::PodmanRuntime> runtime;  // outlives `node`
  std::unique_ptr<agent::NodeRuntime> node;
  std::unique_ptr<api::WebhookServer> webhook;
  std::unique_ptr<OperatorSnapshotApi> snapshot_api;
  std::unique_ptr<controller::StashMetricsCollector> stash_metrics;
  std::unique_ptr<MetricsServer> metrics_server;
  SystemRandom random;  // pod names, webhook certificates
  ~OperatorHandle() {
    metrics_server.reset();  // stops calling into the collector first
    if (stash_metrics) stash_metrics->Stop();
    if (webhook) webhook->Stop();
    snapshot_api.reset();
    if (node) node->Stop();
    if (restores) restores->Stop();
    if (controller) controller->Stop();
  }
};

namespace {

// The webhook certificate all replicas serve: the Secret's, or (the first
// replica) our own, stored in the Secret — a racing replica's wins.
Status SharedWebhookCertificate(const OperatorOptions& opts, const kube::Client& client,
                                Clock& clock, Random& random, api::WebhookOptions* w) {
  size_t slash = opts.webhook_cert_secret.find('/');
  if (slash == std::string::npos) {
    return InvalidError("--webhook-cert-secret must be NAMESPACE/NAME (got '" +
                        opts.webhook_cert_secret + "')");
  }
  const std::string ns = opts.webhook_cert_secret.substr(0, slash);
  const std::string name = opts.webhook_cert_secret.substr(slash + 1);
  auto from_secret = [&](const kube::json& secret) -> Status {
    const kube::json data = secret.value("data", kube::json::object());
    std::string* dest[] = {&w->cert_pem, &w->key_pem, &w->ca_pem};
    const char* keys[] = {"tls.crt", "tls.key", "ca.crt"};
    for (int i = 0; i < 3; ++i) {
      auto pem = Base64Decode(data.value(keys[i], ""));
      if (!pem.ok() || pem->empty()) {
        return InvalidError("Secret " + opts.webhook_cert_secret + " has no usable " + keys[i] +
                            "; delete it and the operator makes a new certificate");
      }
      *dest[i] = std::move(*pem);
    }
    return Status::Ok();
  };
  auto existing = client.Get(kube::res::kSecrets, ns, name);
  if (existing.ok()) return from_secret(*existing);
  if (existing.status().code() != Code::kNotFound) return existing.status();
  STASH_ASSIGN_OR_RETURN(api::WebhookCertificate mine,
                         api::LoadOrCreateWebhookCertificate(opts.webhook_cert_dir,
                                                             opts.webhook_service, clock, random));
  kube::json secret = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", name}, {"namespace", ns}}},
                       {"type", "kubernetes.io/tls"},
                       {"data",
                        {{"tls.crt", Base64Encode(mine.cert_pem)},
                         {"tls.key", Base64Encode(mine.key_pem)},
                         {"ca.crt", Base64Encode(mine.ca_pem)}}}};
  auto created = client.Create(kube::res::kSecrets, ns, secret);
  if (created.ok()) return from_secret(*created);
  if (created.status().code() != Code::kAlreadyExists) return created.status();
  STASH_ASSIGN_OR_RETURN(kube::json theirs, client.Get(kube::res::kSecrets, ns, name));
  return from_secret(theirs);
}

// The certificate the webhook and the Snapshot API serve: the shared
// Secret's (--webhook-cert-secret) or --webhook-cert-dir's, for
// --webhook-service.
Result<api::WebhookCertificate> OperatorCertificate(const OperatorOptions& opts,
                                                    const kube::Client& client, Clock& clock,
                                                    Random& random) {
  if (opts.webhook_cert_secret.empty()) {
    return api::LoadOrCreateWebhookCertificate(opts.webhook_cert_dir, opts.webhook_service, clock,
                                               random);
  }
  api::WebhookOptions w;
  STASH_RETURN_IF_ERROR(SharedWebhookCertificate(opts, client, clock, random, &w));
  return api::WebhookCertificate{w.cert_pem, w.key_pem, w.ca_pem};
}

// Serves the Stash kinds' validating webhooks and puts their CA into the
// ValidatingWebhookConfiguration (if it exists), as Stash's operator does.
Status StartWebhook(const OperatorOptions& opts, OperatorHandle* h, Clock& clock) {
  api::WebhookOptions w;
  if (!SplitListen(opts.webhook_listen, &w.host, &w.port)) {
    return InvalidError("--webhook-listen must be HOST:PORT, e.g. 0.0.0.0:8443 (got '" +
                        opts.webhook_listen + "')");
  }
  const kube::Client* client = h->client.get();
  STASH_ASSIGN_OR_RETURN(api::WebhookCertificate cert,
                         OperatorCertificate(opts, *client, clock, h->random));
  w.cert_pem = cert.cert_pem;
  w.key_pem = cert.key_pem;
  w.ca_pem = cert.ca_pem;
  // Objects a review reads: Repositories (usage policy) and Namespaces.
  api::ObjectLookup lookup = [client](const std::string& group, const std::string& resource,
                                      const std::string& ns,
                                      const std::string& name) -> std::optional<kube::json> {
    const kube::Resource* r = group.empty() && resource == "namespaces" ? &kube::res::kNamespaces
                              : resource == "repositories"              ? &kube::res::kRepositories
                                                                        : nullptr;
    if (!r) return std::nullopt;
    auto got = client->Get(*r, ns, name);
    if (!got.ok()) return std::nullopt;
    return *got;
  };
  h->webhook = std::make_unique<api::WebhookServer>(w, controller::StashAdmissionRoutes(), lookup,
                                                    clock, h->random);
  STASH_RETURN_IF_ERROR(h->webhook->Start());
  const kube::Resource configs{"admissionregistration.k8s.io", "v1",
                               "validatingwebhookconfigurations", "ValidatingWebhookConfiguration",
                               false};
  auto config = client->Get(configs, "", opts.webhook_configuration);
  if (!config.ok()) {
    spdlog::warn(
        "admission webhook: ValidatingWebhookConfiguration {}: {} (its caBundle is not "
        "set; apply deploy/validating-webhook.yaml)",
        opts.webhook_configuration, config.status().ToString());
    return Status::Ok();
  }
  std::string ca = Base64Encode(h->webhook->ca_pem());
  kube::json webhooks = config->value("webhooks", kube::json::array());
  for (kube::json& wh : webhooks) wh["clientConfig"]["caBundle"] = ca;
  auto patched = client->Patch(configs, "", opts.webhook_configuration, kube::PatchType::kMerge,
                               {{"webhooks", webhooks}});
  if (!patched.ok()) return patched.status();
  return Status::Ok();
}

// Starts the collector of Stash's metrics and the /metrics endpoint.
Status StartMetrics(const OperatorOptions& opts, Clock& clock, OperatorHandle& h) {
  STASH_ASSIGN_OR_RETURN(MetricLabels user, ParseMetricLabels(opts.metrics_labels));
  h.stash_metrics = std::make_unique<controller::StashMetricsCollector>(*h.client, clock, user);
  h.stash_metrics->Start();
  OperatorHandle* raw = &h;
  auto started = MetricsServer::Start(opts.metrics_listen, [raw] {
    return raw->stash_metrics->Exposition() + raw->operator_metrics.Exposition() + ProcessMetrics();
  });
  if (!started.ok()) return started.status();
  h.metrics_server = std::move(*started);
  std::cerr << "stash operator: Prometheus metrics on :" << h.metrics_server->port()
            << "/metrics\n";
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<OperatorHandle>> StartOperator(const OperatorOptions& opts, Clock& clock) {
  STASH_ASSIGN_OR_RETURN(kube::KubeConfig cfg, kube::ResolveConfig(opts.kubeconfig));
  auto h = std::make_shared<OperatorHandle>();
  h->client = std::make_unique<kube::Client>(cfg);
  const std::string image = opts.image.empty() ? std::string(kube::kStashImage) : opts.image;
  h->controller = std::make_unique<controller::BackupConfigurationController>(*h->client, clock,
                                                                              opts.ns, image);
  if (!opts.metrics_listen.empty()) h->controller->Instrument(&h->operator_metrics);
  h->controller->SetPushgateway(opts.pushgateway_url);
  h->controller->Start();
  h->restores =
      std::make_unique<controller::RestoreSessionController>(*h->client, clock, opts.ns, image);
  if (!opts.metrics_listen.empty()) h->restores->Instrument(&h->operator_metrics);
  h->restores->Start();
  if (!opts.metrics_listen.empty()) STASH_RETURN_IF_ERROR(StartMetrics(opts, clock, *h));
  if (opts.node) {
    agent::NodeOptions node;
    node.data_dir = std::filesystem::absolute(opts.data_dir).string();
    node.stash_binary = opts.stash_binary;
    node.in_process_triggers = opts.in_process_triggers;
    node.stash_image = image;
    node.pass_env = opts.pass_env;
    if (opts.container_runtime != "none") {
      h->runtime = std::make_unique<agent::PodmanRuntime>(NodePodmanOptions(node.data_dir));
      node.runtime = h->runtime.get();
    }
    h->node = std::make_unique<agent::NodeRuntime>(*h->client, clock, h->random, node);
    h->node->Start();
    if (opts.container_runtime == "podman" && !h->node->runs_other_images()) {
      return FailedPreconditionError(
          "--container-runtime podman: podman cannot run containers here (see the log above)");
    }
  }
  return h;
}

api::PodStreams* OperatorStreams(const OperatorHandle& h) {
  return h.node ? h.node->streams() : nullptr;
}

agent::PodmanOptions NodePodmanOptions(const std::string& node_dir) {
  agent::PodmanOptions p;
  p.state_dir = node_dir + "/podman";
  // Labels this node's pods and containers: stable across restarts of the
  // same server (so it adopts them), distinct between data directories.
  p.node_id = crypto::Sha256(node_dir).Hex().substr(0, 12);
  return p;
}

void AddPassEnvOption(CLI::App* cmd, std::vector<std::string>* names) {
  cmd->add_option("--pass-env", *names,
                  "Variables of this process's environment that stash's own containers "
                  "(sidecar, trigger, restore), run as processes or from the stash image, get "
                  "as well (their spec's env wins), e.g. STORAGE_EMULATOR_HOST for a storage "
                  "emulator; by default they get only what their container spec says, the API "
                  "server's address and their ServiceAccount's token")
      ->delimiter(',');
}

void AddContainerRuntimeOption(CLI::App* cmd, std::string* value) {
  cmd->add_option("--container-runtime", *value,
                  "What runs the containers of images other than stash's: auto (podman when it "
                  "can run a container here, else none), podman (required), none (they are not "
                  "run; stash's own containers run as processes either way)")
      ->check(CLI::IsMember({"auto", "podman", "none"}))
      ->capture_default_str();
}

namespace {

// The webhook and the Snapshot API run on every replica, leader or not:
// the Service sends requests to any of them.
Result<std::shared_ptr<OperatorHandle>> StartServing(const OperatorOptions& opts, Clock& clock) {
  STASH_ASSIGN_OR_RETURN(kube::KubeConfig cfg, kube::ResolveConfig(opts.kubeconfig));
  auto h = std::make_shared<OperatorHandle>();
  h->client = std::make_unique<kube::Client>(cfg);
  if (!opts.webhook_listen.empty()) STASH_RETURN_IF_ERROR(StartWebhook(opts, h.get(), clock));
  if (!opts.snapshot_api_listen.empty()) {
    STASH_ASSIGN_OR_RETURN(api::WebhookCertificate cert,
                           OperatorCertificate(opts, *h->client, clock, h->random));
    STASH_ASSIGN_OR_RETURN(h->snapshot_api,
                           OperatorSnapshotApi::Start(opts.snapshot_api_listen, opts.apiservice,
                                                      *h->client, cert, clock, h->random));
    std::cerr << "stash operator: Snapshot API (aggregated) on :" << h->snapshot_api->port()
              << "\n";
  }
  return h;
}

// client-go's identity: the host name and a random suffix.
std::string Identity(Random& random) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) strcpy(host, "stash-operator");
  uint8_t raw[8];
  random.Fill(raw);
  return std::string(host) + "_" + HexEncode(raw, sizeof raw);
}

}  // namespace

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
  AddContainerRuntimeOption(cmd, &opts->container_runtime);
  AddPassEnvOption(cmd, &opts->pass_env);
  cmd->add_flag("--in-process-triggers,!--trigger-processes", opts->in_process_triggers,
                "With --node: run the trigger CronJobs' create-backupsession inside the node, "
                "with the CronJob's ServiceAccount token (default); --trigger-processes runs "
                "each tick as Kubernetes does instead: a Job whose pod runs from the stash "
                "image when the node runs stash's containers from it, else a process per tick");
  cmd->add_option("--image", opts->image,
                  "stash's image, stamped into sidecars, restore init containers, Jobs and "
                  "trigger CronJobs; --node runs them from it in podman when its image store "
                  "holds it, else as local processes")
      ->default_str(std::string(kube::kStashImage));
  auto leader_elect = std::make_shared<bool>(false);
  auto election = std::make_shared<LeaderElectionOptions>();
  election->name = "stash-operator";
  auto lease_duration = std::make_shared<std::string>("15s");
  auto renew_deadline = std::make_shared<std::string>("10s");
  auto retry_period = std::make_shared<std::string>("2s");
  auto probe_bind = std::make_shared<std::string>();
  cmd->add_flag("--leader-elect", *leader_elect,
                "Run only while holding a coordination.k8s.io Lease, so that one of several "
                "replicas reconciles and another takes over when it dies");
  cmd->add_option("--leader-election-namespace", election->ns,
                  "Namespace of the leader Lease (default: the kubeconfig's or in-cluster "
                  "namespace)");
  cmd->add_option("--leader-election-id", election->name, "Name of the leader Lease")
      ->capture_default_str();
  cmd->add_option("--leader-elect-lease-duration", *lease_duration,
                  "How long followers wait after the leader's last renewal")
      ->capture_default_str();
  cmd->add_option("--leader-elect-renew-deadline", *renew_deadline,
                  "A leader that has not renewed for this long stops leading and exits")
      ->capture_default_str();
  cmd->add_option("--leader-elect-retry-period", *retry_period,
                  "Interval between attempts to acquire or renew the Lease")
      ->capture_default_str();
  cmd->add_option("--metrics-listen", opts->metrics_listen,
                  "Serve Prometheus metrics (Stash's backup, restore and repository families, "
                  "and the operator's own) at /metrics on [HOST]:PORT, e.g. :8080 (default: off)");
  cmd->add_option("--metrics-labels", opts->metrics_labels,
                  "Labels (key=value) added to Stash's metrics (can be repeated)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--pushgateway-url", opts->pushgateway_url,
                  "Make backup sidecars push each session's Stash metrics to this Prometheus "
                  "pushgateway, e.g. http://localhost:56789 (default: off)");
  cmd->add_option("--health-probe-bind-address", *probe_bind,
                  "Serve /healthz and /readyz over HTTP on [HOST]:PORT, e.g. :8081 (default: off)");
  cmd->add_option("--webhook-listen", opts->webhook_listen,
                  "Serve the Stash kinds' validating admission webhooks on HOST:PORT (cluster "
                  "mode; deploy/validating-webhook.yaml points the API server at them)");
  cmd->add_option("--webhook-cert-dir", opts->webhook_cert_dir,
                  "The webhook's CA and serving certificate (created on first start)")
      ->capture_default_str();
  cmd->add_option("--webhook-service", opts->webhook_service,
                  "DNS name the API server calls the webhook by (the certificate's SAN)")
      ->capture_default_str();
  cmd->add_option("--webhook-cert-secret", opts->webhook_cert_secret,
                  "NAMESPACE/NAME of a TLS Secret with the webhook's certificate, shared by the "
                  "operator's replicas (the first creates it)");
  cmd->add_option("--webhook-configuration", opts->webhook_configuration,
                  "ValidatingWebhookConfiguration whose caBundle the operator keeps current")
      ->capture_default_str();
  cmd->add_option("--snapshot-api-listen", opts->snapshot_api_listen,
                  "Serve Stash's Snapshots (repositories.stash.appscode.com/v1alpha1) as an "
                  "aggregated API on HOST:PORT, e.g. 0.0.0.0:8444, with the webhook's certificate "
                  "(--webhook-cert-*); deploy/aggregated-api.yaml registers it (cluster mode)");
  cmd->add_option("--apiservice", opts->apiservice,
                  "APIService whose caBundle the operator sets to its certificate's CA")
      ->capture_default_str();
  cmd->callback([=] {
    RealClock clock;
    std::atomic<bool> stop{false};
    StopSignals signals;  // before any thread starts; after what OnStop touches
    SystemRandom random;
    auto fail = [&](const std::string& msg, int code) {
      std::cerr << "stash operator: " << msg << "\n";
      *exit_code = code;
    };
    for (auto [flag, text, out] :
         {std::tuple{"--leader-elect-lease-duration", lease_duration, &election->lease_duration},
          {"--leader-elect-renew-deadline", renew_deadline, &election->renew_deadline},
          {"--leader-elect-retry-period", retry_period, &election->retry_period}}) {
      auto d = kube::ParseGoDuration(*text);
      if (!d.ok() || d->count() <= 0) {
        return fail(std::string(flag) + ": " +
                        (d.ok() ? "must be positive" : std::string(d.status().message())),
                    kExitUsage);
      }
      *out = *d;
    }
    if (*leader_elect && election->renew_deadline >= election->lease_duration) {
      return fail("--leader-elect-renew-deadline must be shorter than the lease duration",
                  kExitUsage);
    }
    auto cfg = kube::ResolveConfig(opts->kubeconfig);
    if (!cfg.ok()) return fail(std::string(cfg.status().message()), kExitError);
    kube::Client client(*cfg);
    std::atomic<bool> api_reachable{!*leader_elect};
    std::unique_ptr<HealthServer> health;
    if (!probe_bind->empty()) {
      auto started = HealthServer::Start(*probe_bind, [&] { return api_reachable.load(); });
      if (!started.ok()) return fail(std::string(started.status().message()), kExitUsage);
      health = std::move(*started);
      std::cerr << "stash operator: health probes on :" << health->port()
                << " (/healthz, /readyz)\n";
    }
    signals.OnStop([&](int) {
      stop = true;
      clock.Interrupt();
    });
    std::shared_ptr<OperatorHandle> handle, webhook;
    if (!opts->webhook_listen.empty() || !opts->snapshot_api_listen.empty()) {
      auto started = StartServing(*opts, clock);
      if (!started.ok()) {
        return fail(std::string(started.status().message()), kExitError);
      }
      webhook = std::move(*started);
    }
    auto lead = [&]() -> Status {
      STASH_ASSIGN_OR_RETURN(handle, StartOperator(*opts, clock));
      std::cerr << "stash operator: running" << (opts->node ? " with the embedded node" : "")
                << "\n";
      return Status::Ok();
    };
    auto stop_leading = [&] { handle.reset(); };
    int code = kExitOk;
    if (*leader_elect) {
      if (election->ns.empty()) election->ns = cfg->namespace_;
      election->identity = Identity(random);
      code = RunLeaderElected(client, clock, *election, lead, stop_leading, stop, &api_reachable);
    } else if (Status s = lead(); !s.ok()) {
      code = kExitError;
      std::cerr << "stash operator: " << s.message() << "\n";
    } else {
      while (!stop) clock.SleepFor(std::chrono::seconds(1));
    }
    std::cerr << "stash operator: shutting down\n";
    stop_leading();
    webhook.reset();
    health.reset();
    *exit_code = code;
  });
}

}  // namespace stash::cli
