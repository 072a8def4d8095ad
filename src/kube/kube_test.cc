#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "stash/core/testing.h"
#include "stash/kube/client.h"
#include "stash/kube/config.h"
#include "stash/kube/events.h"

namespace stash::kube {
namespace {

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: "https://10.0.0.1:443"}
- name: stash
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
contexts:
- name: stash
  context: {cluster: stash, user: admin, namespace: demo}
- name: plain
  context: {cluster: other, user: nobody}
current-context: stash
users:
- name: admin
  user: {token: s3cret}
)";

TEST(Kubeconfig, CurrentContextGivesServerCaTokenAndNamespace) {
  auto cfg = ParseKubeconfig(kKubeconfig);
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg->ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(cfg->token, "s3cret");
  EXPECT_EQ(cfg->namespace_, "demo");
  EXPECT_FALSE(cfg->insecure_skip_tls_verify);
}

TEST(Kubeconfig, NamedContextWithoutNamespaceDefaultsAndUnknownUserHasNoToken) {
  auto cfg = ParseKubeconfig(kKubeconfig, "plain");
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->server, "https://10.0.0.1:443");
  EXPECT_EQ(cfg->namespace_, "default");
  EXPECT_EQ(cfg->token, "");
}

TEST(Kubeconfig, ErrorsNameTheProblem) {
  auto missing = ParseKubeconfig(kKubeconfig, "nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("\"nope\""), std::string::npos);
  auto bad = ParseKubeconfig("clusters: [unclosed");
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  auto no_ctx = ParseKubeconfig("apiVersion: v1\nclusters: []\n");
  EXPECT_EQ(no_ctx.status().code(), Code::kInvalid);
  EXPECT_NE(no_ctx.status().message().find("current-context"), std::string::npos);
}

TEST(Kubeconfig, FileReferencesAreRelativeToTheKubeconfig) {
  auto dir = std::filesystem::temp_directory_path() / ("kube_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.pem") << "CA";
  std::ofstream(dir / "tok") << "abc\n";
  std::ofstream(dir / "config")
      << "clusters: [{name: c, cluster: {server: 'https://h:1', "
         "certificate-authority: ca.pem, insecure-skip-tls-verify: true}}]\n"
         "users: [{name: u, user: {tokenFile: tok}}]\n"
         "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
         "current-context: x\n";
  auto cfg = LoadKubeconfig((dir / "config").string());
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->ca_pem, "CA");
  EXPECT_EQ(cfg->token, "abc");
  EXPECT_TRUE(cfg->insecure_skip_tls_verify);
  std::filesystem::remove_all(dir);
}

TEST(InCluster, ReadsServiceAccountMount) {
  auto dir = std::filesystem::temp_directory_path() / ("kube_sa_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "tkn\n";
  std::ofstream(dir / "ca.crt") << "PEM";
  std::ofstream(dir / "namespace") << "stash-system";
  auto env = [](const char* k) -> const char* {
    std::string key = k;
    if (key == "KUBERNETES_SERVICE_HOST") return "10.96.0.1";
    if (key == "KUBERNETES_SERVICE_PORT") return "443";
    return nullptr;
  };
  auto cfg = InClusterConfig(env, dir.string());
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->server, "https://10.96.0.1:443");
  EXPECT_EQ(cfg->token, "tkn");
  EXPECT_EQ(cfg->ca_pem, "PEM");
  EXPECT_EQ(cfg->namespace_, "stash-system");
  auto none = InClusterConfig([](const char*) -> const char* { return nullptr; }, dir.string());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(LineSplitter, ReassemblesEventsSplitAcrossChunks) {
  LineSplitter s;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) { lines.emplace_back(l); };
  s.Feed("{\"type\":\"ADDED\"}\n{\"ty", collect);
  EXPECT_EQ(lines.size(), 1u);
  s.Feed("pe\":\"MODIFIED\"}", collect);
  EXPECT_EQ(lines.size(), 1u);
  s.Feed("\n\n{\"type\":\"DELETED\"}\n", collect);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "{\"type\":\"MODIFIED\"}");
  EXPECT_EQ(lines[2], "{\"type\":\"DELETED\"}");
  EXPECT_EQ(s.pending(), 0u);
}

TEST(Client, PathsForCoreGroupedAndClusterScopedResources) {
  EXPECT_EQ(Client::Path(res::kSecrets, "demo", "gcs-secret"),
            "/api/v1/namespaces/demo/secrets/gcs-secret");
  EXPECT_EQ(Client::Path(res::kBackupSessions, "demo", "x", "status"),
            "/apis/stash.appscode.com/v1beta1/namespaces/demo/backupsessions/x/status");
  EXPECT_EQ(Client::Path(res::kNamespaces, "ignored", "demo"), "/api/v1/namespaces/demo");
  EXPECT_EQ(Client::Path(res::kDeployments, ""), "/apis/apps/v1/deployments");
}

TEST(Client, HttpErrorsMapToCodesWithTheServersMessage) {
  std::string body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"backupconfigurations.stash.appscode.com \"x\" not found","reason":"NotFound","code":404})";
  Status s = StatusFromHttp(404, body, "GET /x");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("\"x\" not found"), std::string::npos);
  EXPECT_EQ(StatusFromHttp(409, R"({"kind":"Status","reason":"AlreadyExists"})", "").code(),
            Code::kAlreadyExists);
  EXPECT_EQ(StatusFromHttp(409, R"({"kind":"Status","reason":"Conflict"})", "").code(),
            Code::kConflict);
  EXPECT_EQ(StatusFromHttp(410, "", "").code(), Code::kFailedPrecondition);
  EXPECT_TRUE(StatusFromHttp(503, "busy", "").retryable());
  EXPECT_FALSE(StatusFromHttp(422, "", "").retryable());
}

TEST(Time, FormatsAndParsesRfc3339) {
  SystemTime t = std::chrono::system_clock::from_time_t(1564726385);
  EXPECT_EQ(FormatTime(t), "2019-08-02T06:13:05Z");
  auto back = ParseTime("2019-08-02T06:13:05Z");
  ASSERT_OK(back);
  EXPECT_EQ(*back, t);
  auto frac = ParseTime("2019-08-02T08:13:05.5+02:00");
  ASSERT_OK(frac);
  EXPECT_EQ(*frac, t + std::chrono::milliseconds(500));
  EXPECT_FALSE(ParseTime("yesterday").ok());
}

}  // namespace
}  // namespace stash::kube
