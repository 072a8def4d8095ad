#include "stash/agent/podman.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "stash/agent/pod_logs.h"
#include "stash/agent/pods.h"
#include "stash/core/testing.h"

namespace stash::agent {
namespace {

using nlohmann::json;

TEST(Podman, ImageReferencesAsKubernetesCompletesThem) {
  EXPECT_EQ(PodmanRuntime::NormalizeImage("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(PodmanRuntime::NormalizeImage("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(PodmanRuntime::NormalizeImage("me/app"), "docker.io/me/app:latest");
  EXPECT_EQ(PodmanRuntime::NormalizeImage("quay.io/x/y:2"), "quay.io/x/y:2");
  EXPECT_EQ(PodmanRuntime::NormalizeImage("localhost:5000/app"), "localhost:5000/app:latest");
  EXPECT_EQ(PodmanRuntime::NormalizeImage("localhost/stash:1.0"), "localhost/stash:1.0");
  EXPECT_EQ(PodmanRuntime::NormalizeImage("app@sha256:abc"), "docker.io/library/app@sha256:abc");
}

// podman 4.3.1's `ps -a --format json`, trimmed: an infra container, one
// of ours and one of the node's check pod.
TEST(Podman, ListedContainersDecodeFromPodmansJson) {
  const std::string out = R"([
    {"Id": "infra1", "IsInfra": true, "Labels": {"io.kubernetes.pod.uid": "u1"}},
    {"AutoRemove": false, "Command": ["sh"], "Created": 1796674817, "CreatedAt": "1 second ago",
     "ExitCode": 3, "ExitedAt": 1796674830, "Id": "c1", "Image": "docker.io/library/busybox:latest",
     "ImageID": "c6d0", "IsInfra": false, "Ports": null, "StartedAt": -62135596800,
     "State": "exited",
     "Labels": {"io.kubernetes.pod.uid": "u1", "io.kubernetes.container.name": "app",
                "io.kubernetes.pod.namespace": "demo", "io.kubernetes.pod.name": "p",
                "io.stash.attempt": "2", "io.stash.init": "true", "io.stash.hash": "h",
                "io.stash.log": "/l/2.log"}},
    {"Id": "check", "Labels": null, "State": "running"}
  ])";
  auto list = PodmanRuntime::ParseContainers(out);
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 1u);
  const ContainerInfo& c = (*list)[0];
  EXPECT_EQ(c.id, "c1");
  EXPECT_EQ(c.pod_uid, "u1");
  EXPECT_EQ(c.ns, "demo");
  EXPECT_EQ(c.pod_name, "p");
  EXPECT_EQ(c.name, "app");
  EXPECT_TRUE(c.init);
  EXPECT_EQ(c.attempt, 2);
  EXPECT_EQ(c.log_path, "/l/2.log");
  EXPECT_EQ(c.phase, ContainerPhase::kExited);
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.created, SystemTime{std::chrono::seconds(1796674817)});
  EXPECT_EQ(c.started, SystemTime{});  // podman's zero time: never started
  EXPECT_EQ(c.finished, SystemTime{std::chrono::seconds(1796674830)});
  EXPECT_EQ(c.image_id, "c6d0");

  auto bad = PodmanRuntime::ParseContainers(R"([{"Id": "x"}, {"Id": "y", "ExitCode": "1"}])");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "podman ps: [1].ExitCode: expected an integer, got string");
  EXPECT_FALSE(PodmanRuntime::ParseContainers("Error: no").ok());
  auto none = PodmanRuntime::ParseContainers("[]");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  auto pods = PodmanRuntime::ParseSandboxes(
      R"([{"Id": "s1", "Labels": {"io.kubernetes.pod.uid": "u1", "io.kubernetes.pod.name": "p",
          "io.kubernetes.pod.namespace": "demo"}}, {"Id": "check", "Labels": {}}])");
  ASSERT_OK(pods);
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ((*pods)[0].id, "s1");
  EXPECT_EQ((*pods)[0].name, "p");
  auto bad_pods = PodmanRuntime::ParseSandboxes(R"([{"Id": 7}])");
  ASSERT_FALSE(bad_pods.ok());
  EXPECT_EQ(bad_pods.status().message(), "podman pod ps: [0].Id: expected a string, got integer");
}

bool Has(const std::vector<std::string>& args, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag && args[i + 1] == value) return true;
  }
  return false;
}

TEST(Podman, ContainerCommandLineCarriesTheSpec) {
  PodmanOptions o;
  o.node_id = "n1";
  PodmanRuntime rt(o);
  ContainerSpec s;
  s.pod_uid = "u1";
  s.ns = "demo";
  s.pod_name = "p";
  s.name = "app";
  s.attempt = 2;
  s.image = "busybox";
  s.command = {"/bin/sh", "-c"};
  s.args = {"echo hi"};
  s.env = {{"A", "1"}, {"B", "x=y"}};
  s.working_dir = "/w";
  s.mounts = {{"/host/pvc", "/data", false}, {"/host/token", "/var/run/secrets/x", true}};
  s.uid = 1000;
  s.gid = 2000;
  s.log_path = "/logs/app/2.log";
  s.hash = "h";
  auto a = rt.CreateArgs(s, "sandbox", "");
  EXPECT_EQ(a[0], "create");
  EXPECT_TRUE(Has(a, "--pod", "sandbox"));
  EXPECT_NE(std::find(a.begin(), a.end(), "--pull=never"), a.end());  // never an implicit pull
  EXPECT_TRUE(Has(a, "--entrypoint", R"(["/bin/sh","-c"])"));
  EXPECT_TRUE(Has(a, "--env", "B=x=y"));
  EXPECT_TRUE(Has(a, "--workdir", "/w"));
  EXPECT_TRUE(Has(a, "--volume", "/host/pvc:/data"));
  EXPECT_TRUE(Has(a, "--volume", "/host/token:/var/run/secrets/x:ro"));
  EXPECT_TRUE(Has(a, "--user", "1000:2000"));
  EXPECT_TRUE(Has(a, "--label", "io.stash.attempt=2"));
  EXPECT_TRUE(Has(a, "--label", "io.stash.node=n1"));
  EXPECT_TRUE(Has(a, "--log-opt", "path=/logs/app/2.log"));
  // The image, then the args as the container's command.
  EXPECT_EQ(a[a.size() - 2], "docker.io/library/busybox:latest");
  EXPECT_EQ(a.back(), "echo hi");
}

class CriLog : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stash-crilog-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/0.log";
    std::ofstream(path_) << "2026-01-01T00:00:01.000000000Z stdout F one\n"
                         << "2026-01-01T00:00:02.000000000Z stderr P tw\n"
                         << "2026-01-01T00:00:02.100000000Z stderr F o\n"
                         << "2026-01-01T00:00:03.000000000Z stdout F three\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Read(api::PodLogOptions o) {
    CriLogSource src(
        path_, o, [] { return false; }, SystemTime{});
    std::string out;
    while (src.Next(&out, std::chrono::steady_clock::now())) {
    }
    return out;
  }
  std::string dir_, path_;
};

TEST_F(CriLog, LinesAsKubectlShowsThem) {
  EXPECT_EQ(Read({}), "one\ntwo\nthree\n");  // a split (P) line is joined
  api::PodLogOptions tail;
  tail.tail_lines = 2;
  EXPECT_EQ(Read(tail), "two\nthree\n");
  api::PodLogOptions stamps;
  stamps.timestamps = true;
  stamps.tail_lines = 1;
  EXPECT_EQ(Read(stamps), "2026-01-01T00:00:03.000000000Z three\n");
  api::PodLogOptions limit;
  limit.limit_bytes = 6;
  EXPECT_EQ(Read(limit), "one\ntw");
  api::PodLogOptions since;
  since.since_time = "2026-01-01T00:00:02Z";
  EXPECT_EQ(Read(since), "two\nthree\n");
}

// PodStatusFor on a pod written as JSON, its answer as JSON.
json StatusOf(const json& pod, const std::map<std::string, ContainerState>& states,
              const std::map<std::string, ContainerState>& init = {}, const RunScope& scope = {}) {
  auto decoded = apis::FromJson<apis::Pod>(pod);
  EXPECT_OK(decoded);
  return decoded.ok() ? apis::ToJson(PodStatusFor(*decoded, states, init, scope)) : json();
}

TEST(PodStatus, ContainersOfTheRuntimeAreReportedNotRefused) {
  json pod = {{"metadata", {{"name", "p"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
              {"spec", {{"containers", {{{"name", "app"}, {"image", "busybox"}}}}}}};
  RunScope none;
  none.not_run_message = "podman: not installed";
  json st = StatusOf(pod, {}, {}, none);
  EXPECT_EQ(st["containerStatuses"][0]["state"]["waiting"]["reason"], kNotRunReason);
  EXPECT_NE(st["containerStatuses"][0]["state"]["waiting"]["message"].get<std::string>().find(
                "podman: not installed"),
            std::string::npos);
  EXPECT_FALSE(st.contains("podIP"));  // nothing runs: no sandbox, no address
  EXPECT_EQ(st["hostIP"], "127.0.0.1");
  RunScope podman;
  podman.other_images = true;
  ContainerState running;
  running.running = true;
  running.container_id = "podman://abc";
  running.image_id = "sha256:def";
  st = StatusOf(pod, {{"app", running}}, {}, podman);
  EXPECT_EQ(st["phase"], "Running");
  EXPECT_EQ(st["containerStatuses"][0]["containerID"], "podman://abc");
  EXPECT_EQ(st["containerStatuses"][0]["imageID"], "sha256:def");
  // Host networking: the pod's address is the node's, as for kubelet's
  // hostNetwork pods.
  EXPECT_EQ(st["podIP"], "127.0.0.1");
  EXPECT_EQ(st["podIPs"], json::parse(R"([{"ip": "127.0.0.1"}])"));
  EXPECT_EQ(st["hostIPs"], json::parse(R"([{"ip": "127.0.0.1"}])"));
  ContainerState crashing;
  crashing.restarts = 3;
  crashing.waiting_reason = "CrashLoopBackOff";
  crashing.last_terminated = Termination{1, "Error", "", {}, {}};
  st = StatusOf(pod, {{"app", crashing}}, {}, podman);
  EXPECT_EQ(st["phase"], "Running");  // as Kubernetes: restarting, not pending
  EXPECT_EQ(st["conditions"][3]["status"], "False");
  EXPECT_EQ(st["containerStatuses"][0]["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(st["containerStatuses"][0]["restartCount"], 3);
  EXPECT_EQ(st["containerStatuses"][0]["lastState"]["terminated"]["exitCode"], 1);
}

}  // namespace
}  // namespace stash::agent
