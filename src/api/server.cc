#include "stash/api/server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "auth.h"
#include "auth_jwt.h"
#include "certs.h"
#include "controllers.h"
#include "encryption.h"
#include "handler.h"
#include "http_server.h"
#include "registry.h"
#include "stash/core/base64.h"
#include "store.h"
#include "yaml_json.h"

namespace stash::api {

std::vector<std::string_view> EmbeddedCrds();  // generated from deploy/crds

struct Server::Impl {
  ServerOptions options;
  Clock& clock;
  Random& random;
  Credentials creds;
  std::unique_ptr<EncryptionAtRest> encryption;
  std::unique_ptr<Store> store;
  std::unique_ptr<Auth> auth;
  Registry registry;
  std::unique_ptr<Aggregator> aggregator;  // used by the handler
  std::unique_ptr<ApiHandler> handler;
  std::unique_ptr<ControllerManager> controllers;
  std::unique_ptr<HttpServer> http;
  std::string url;
  // The compactor: every interval, history up to the previous tick goes.
  std::thread compactor;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;

  void Compactor();
  PodStreams* pod_streams = nullptr;
};

void Server::Impl::Compactor() {
  uint64_t previous = store->CurrentRv();
  std::unique_lock lock(mu);
  while (!cv.wait_for(lock, options.compaction_interval, [&] { return stopping; })) {
    lock.unlock();
    uint64_t now = store->CurrentRv();
    if (Status st = store->Compact(previous); !st.ok()) {
      spdlog::warn("API store compaction: {}", st.message());
    }
    previous = now;
    lock.lock();
  }
}

namespace {

Result<std::vector<json>> LoadCrds(const std::string& dir) {
  std::vector<std::string> texts;
  if (dir.empty()) {
    for (std::string_view t : EmbeddedCrds()) texts.emplace_back(t);
  } else {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      auto ext = e.path().extension();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path());
    }
    if (ec) return NotFoundError("reading CRD directory " + dir + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      STASH_ASSIGN_OR_RETURN(std::string t, ReadFile(f.string()));
      texts.push_back(std::move(t));
    }
  }
  std::vector<json> crds;
  for (const std::string& t : texts) {
    STASH_ASSIGN_OR_RETURN(std::vector<json> docs, YamlToJson(t));
    for (json& d : docs) {
      if (d.value("kind", "") == "CustomResourceDefinition") crds.push_back(std::move(d));
    }
  }
  return crds;
}

std::string Kubeconfig(const std::string& url, const Credentials& c) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: stash\n"
         "  cluster:\n"
         "    server: " +
         url +
         "\n"
         "    certificate-authority-data: " +
         Base64Encode(c.ca_pem) +
         "\n"
         "users:\n"
         "- name: stash\n"
         "  user:\n"
         "    token: " +
         c.token +
         "\n"
         "contexts:\n"
         "- name: stash\n"
         "  context:\n"
         "    cluster: stash\n"
         "    user: stash\n"
         "    namespace: default\n"
         "current-context: stash\n";
}

// kube-system/extension-apiserver-authentication as kube-apiserver publishes
// it: how extension API servers (e.g. `stash operator --snapshot-api-listen`)
// recognise requests the front proxy forwards (its client CA, the names its
// certificate may carry, and the headers naming the user).
Status PublishExtensionAuthentication(ApiHandler& handler, Store& store, const std::string& token,
                                      const FrontProxyCredentials& proxy) {
  const std::string name = "extension-apiserver-authentication";
  json data = {{"requestheader-client-ca-file", proxy.ca_pem},
               {"requestheader-allowed-names", json::array({kFrontProxyClientName}).dump()},
               {"requestheader-username-headers", R"(["X-Remote-User"])"},
               {"requestheader-group-headers", R"(["X-Remote-Group"])"},
               {"requestheader-extra-headers-prefix", R"(["X-Remote-Extra-"])"}};
  auto existing = store.Get("/configmaps", "kube-system", name);
  if (existing && existing->value("data", json::object()) == data) return Status::Ok();
  HttpRequest req;
  req.method = existing ? "PUT" : "POST";
  req.path = "/api/v1/namespaces/kube-system/configmaps" + (existing ? "/" + name : "");
  req.authorization = "Bearer " + token;
  req.content_type = "application/json";
  req.body = json{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", name}, {"namespace", "kube-system"}}},
      {"data",
       data}}.dump();
  HttpResponse r = handler.Handle(req);
  if (r.status >= 300)
    return InternalError("publishing ConfigMap kube-system/" + name + ": " + r.body);
  return Status::Ok();
}

}  // namespace

Server::Server(ServerOptions options, Clock& clock, Random& random)
    : impl_(new Impl{std::move(options), clock, random}) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  Impl& s = *impl_;
  std::error_code ec;
  std::filesystem::create_directories(s.options.data_dir, ec);
  if (ec) {
    return ErrnoError(ec.value(), "creating data directory " + s.options.data_dir);
  }
  ::chmod(s.options.data_dir.c_str(), 0700);
  // Files from older versions (or copied in) become the server's alone too.
  for (const auto& e : std::filesystem::directory_iterator(s.options.data_dir, ec)) {
    if (e.is_regular_file(ec)) ::chmod(e.path().c_str(), 0600);
  }
  STASH_ASSIGN_OR_RETURN(s.creds,
                         EnsureCredentials(s.options.data_dir, s.options.host, s.clock, s.random));
  const std::string encryption_path = s.options.encryption_config.empty()
                                          ? s.options.data_dir + "/encryption-config.yaml"
                                          : s.options.encryption_config;
  STASH_ASSIGN_OR_RETURN(s.encryption, EncryptionAtRest::LoadOrCreate(encryption_path, s.random));
  StoreOptions store_options;
  store_options.transformer = s.encryption.get();
  STASH_ASSIGN_OR_RETURN(s.store, Store::Open(s.options.data_dir + "/state.db", store_options));
  STASH_ASSIGN_OR_RETURN(std::unique_ptr<TokenSigner> signer,
                         TokenSigner::LoadOrCreate(s.options.data_dir + "/sa.key"));
  s.auth = std::make_unique<Auth>(*s.store, s.clock, s.random, std::move(signer), s.creds.token);
  s.handler = std::make_unique<ApiHandler>(*s.store, s.registry, s.clock, s.random, *s.auth);
  s.handler->SetAdmissionPlugins(s.options.admission);
  s.handler->SetPodStreams(s.pod_streams);
  s.handler->ReloadCrds();
  STASH_ASSIGN_OR_RETURN(std::vector<json> crds, LoadCrds(s.options.crds_dir));
  STASH_RETURN_IF_ERROR(s.handler->InstallCrds(crds));
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    if (s.store->Get("/namespaces", "", ns)) continue;
    HttpRequest req;
    req.method = "POST";
    req.path = "/api/v1/namespaces";
    req.authorization = "Bearer " + s.creds.token;
    req.content_type = "application/json";
    req.body =
        json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}.dump();
    HttpResponse r = s.handler->Handle(req);
    if (r.status != 201)
      return InternalError("creating namespace " + std::string(ns) + ": " + r.body);
  }
  STASH_ASSIGN_OR_RETURN(FrontProxyCredentials proxy,
                         EnsureFrontProxyCredentials(s.options.data_dir, s.clock, s.random));
  STASH_RETURN_IF_ERROR(PublishExtensionAuthentication(*s.handler, *s.store, s.creds.token, proxy));
  s.aggregator = std::make_unique<Aggregator>(*s.store, proxy, s.clock);
  s.handler->SetAggregator(s.aggregator.get());
  ControllerOptions controller_options;
  controller_options.volume_root =
      s.options.volume_dir.empty() ? s.options.data_dir + "/node/volumes" : s.options.volume_dir;
  controller_options.volume_root =
      std::filesystem::absolute(controller_options.volume_root).lexically_normal().string();
  s.controllers = std::make_unique<ControllerManager>(*s.store, s.registry, *s.handler, s.clock,
                                                      controller_options);
  STASH_RETURN_IF_ERROR(s.controllers->Start());
  ApiHandler* handler = s.handler.get();
  s.auth->Start([handler](const HttpRequest& r) { return handler->Handle(r); });
  s.auth->WaitIdle();  // default ServiceAccounts and aggregated roles before serving
  HttpServerOptions http_options;
  http_options.max_connections = s.options.max_connections;
  s.http = std::make_unique<HttpServer>(
      s.creds.cert_pem, s.creds.key_pem,
      [handler](const HttpRequest& r) { return handler->Handle(r); }, http_options);
  STASH_RETURN_IF_ERROR(s.http->Start(s.options.host, s.options.port));
  if (s.options.compaction_interval.count() > 0) {
    s.compactor = std::thread([&s] { s.Compactor(); });
  }
  std::string host = s.options.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  s.url = "https://" + host + ":" + std::to_string(s.http->port());
  STASH_RETURN_IF_ERROR(WriteFileAtomic(kubeconfig_path(), Kubeconfig(s.url, s.creds), 0600));
  spdlog::info("API server listening on {}", s.url);
  return Status::Ok();
}

void Server::Stop() {
  if (impl_->controllers) impl_->controllers->Stop();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->compactor.joinable()) impl_->compactor.join();
  if (impl_->store) impl_->store->CloseWatchers();
  if (impl_->http) impl_->http->Stop();
  if (impl_->auth) impl_->auth->Stop();
}

int Server::port() const { return impl_->http ? impl_->http->port() : 0; }
std::string Server::url() const { return impl_->url; }
std::string Server::kubeconfig_path() const { return impl_->options.data_dir + "/kubeconfig"; }
std::string Server::token() const { return impl_->creds.token; }

void Server::AddProvider(const ProvidedResource& resource,
                         std::shared_ptr<ResourceProvider> provider) {
  impl_->registry.AddProvided(resource, std::move(provider));
}

void Server::SetPodStreams(PodStreams* streams) {
  impl_->pod_streams = streams;
  if (impl_->handler) impl_->handler->SetPodStreams(streams);
}

std::optional<json> Server::GetStored(const std::string& group, const std::string& resource,
                                      const std::string& ns, const std::string& name) const {
  if (!impl_->store) return std::nullopt;
  return impl_->store->Get(group + "/" + resource, ns, name);
}

std::vector<json> Server::ListStored(const std::string& group, const std::string& resource,
                                     const std::string& ns) const {
  if (!impl_->store) return {};
  return impl_->store->List(group + "/" + resource, ns, nullptr);
}

}  // namespace stash::api
