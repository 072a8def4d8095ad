#include "cluster.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <thread>

#include "stash/apis/client.h"
#include "stash/kube/config.h"

namespace stash::apis::testing {

namespace {

const kube::Resource* ResourceOf(std::string_view kind) {
  namespace res = kube::res;
  for (const kube::Resource* r :
       {&res::kNamespaces, &res::kSecrets, &res::kEvents, &res::kPods,
        &res::kPersistentVolumeClaims, &res::kDeployments, &res::kStatefulSets, &res::kDaemonSets,
        &res::kCronJobs, &res::kJobs, &res::kLeases, &res::kRepositories,
        &res::kBackupConfigurations, &res::kBackupSessions, &res::kRestoreSessions}) {
    if (r->kind == kind) return r;
  }
  return nullptr;
}

}  // namespace

TestCluster::TestCluster() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "stash-cluster-XXXXXX").string();
  dir_ = mkdtemp(tmpl.data()) ? tmpl : "";
}

TestCluster::~TestCluster() {
  Stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

Status TestCluster::Start() {
  if (dir_.empty()) return ErrnoError(errno, "creating a temporary directory");
  api::ServerOptions opts;
  opts.data_dir = dir_ + "/server";
  opts.port = 0;
  server_ = std::make_unique<api::Server>(opts, clock_, random_);
  STASH_RETURN_IF_ERROR(server_->Start());
  STASH_ASSIGN_OR_RETURN(kube::KubeConfig cfg, kube::LoadKubeconfig(server_->kubeconfig_path()));
  client_ = std::make_unique<kube::Client>(cfg);
  return Apply(R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})");
}

void TestCluster::Stop() {
  if (server_) server_->Stop();
}

Status TestCluster::Apply(std::string_view json_text) {
  json obj = json::parse(json_text, nullptr, false);
  if (!obj.is_object() || !obj.contains("kind") || !obj["kind"].is_string()) {
    return InvalidError("TestCluster::Apply: not an object with a kind: " + std::string(json_text));
  }
  const kube::Resource* r = ResourceOf(obj["kind"].get<std::string>());
  if (!r) return UnsupportedError("TestCluster::Apply: unknown kind " + obj["kind"].dump());
  std::string ns;
  if (obj.contains("metadata") && obj["metadata"].contains("namespace")) {
    ns = obj["metadata"]["namespace"].get<std::string>();
  }
  return client_->Create(*r, ns, obj).status();
}

std::vector<Event> TestCluster::Events(const std::string& ns, const std::string& reason) const {
  std::vector<Event> out;
  auto events = List<Event>(*client_, ns);
  if (!events.ok()) {
    ADD_FAILURE() << "listing the events of " << ns << ": " << events.status().ToString();
    return out;
  }
  for (Event& e : *events) {
    if (e.reason == reason) out.push_back(std::move(e));
  }
  return out;
}

bool TestCluster::WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ready();
}

}  // namespace stash::apis::testing
