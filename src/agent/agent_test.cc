#include <gtest/gtest.h>

#include "stash/agent/backup_runner.h"
#include "stash/agent/format.h"
#include "stash/agent/lease.h"
#include "stash/agent/pods.h"
#include "stash/agent/repository.h"
#include "stash/core/testing.h"

namespace stash::agent {
namespace {

using apis::json;

TEST(Format, SizesTimesAndDurationsAsStashWritesThem) {
  EXPECT_EQ(FormatProcessingTime(3.7), "0:03");
  EXPECT_EQ(FormatProcessingTime(3723), "1:02:03");
  EXPECT_EQ(FormatGoDuration(std::chrono::milliseconds(65400)), "1m5s");
  EXPECT_EQ(FormatGoDuration(std::chrono::milliseconds(400)), "0s");
  EXPECT_EQ(FormatGoDuration(std::chrono::seconds(3723)), "1h2m3s");
  EXPECT_EQ(FormatGoDuration(std::chrono::milliseconds(1234), std::chrono::milliseconds(1)),
            "1.234s");
  EXPECT_EQ(FormatGoDuration(std::chrono::milliseconds(250), std::chrono::milliseconds(1)),
            "250ms");
}

template <class T>
T Parse(const char* text) {
  auto r = apis::FromJson<T>(json::parse(text));
  EXPECT_OK(r);
  return r.ok() ? *r : T{};
}

apis::Secret Secret() {
  return Parse<apis::Secret>(R"({"metadata": {"name": "s", "namespace": "demo"},
      "data": {"RESTIC_PASSWORD": "Y2hhbmdlaXQ=", "GOOGLE_PROJECT_ID": "cA==", "not-env": "eA=="}})");
}

TEST(Repository, LocalBackendsResolveToHostDirectories) {
  auto repo = Parse<apis::Repository>(R"({"metadata": {"name": "r", "namespace": "demo"},
      "spec": {"backend": {"storageSecretName": "s", "local": {"mountPath": "/safe/data",
        "subPath": "x", "persistentVolumeClaim": {"claimName": "repo-pvc"}}}}})");
  auto t = ResolveRepository(repo, Secret(), "/data");
  ASSERT_OK(t);
  EXPECT_EQ(t->url, "/data/volumes/demo/repo-pvc/x");
  EXPECT_EQ(t->env.at("RESTIC_PASSWORD"), "changeit");
  EXPECT_EQ(t->env.at("GOOGLE_PROJECT_ID"), "p");
  EXPECT_FALSE(t->env.count("not-env"));
  auto in_pod = ResolveRepository(repo, Secret(), "");
  ASSERT_OK(in_pod);
  EXPECT_EQ(in_pod->url, "/safe/data/x");
}

TEST(Repository, CloudBackendsUseResticUrls) {
  auto repo = Parse<apis::Repository>(R"({"metadata": {"name": "gcs-repo", "namespace": "demo"},
      "spec": {"backend": {"gcs": {"bucket": "appscode-qa", "prefix": "/sample/data"},
                           "storageSecretName": "gcs-secret"}}})");
  auto t = ResolveRepository(repo, Secret(), "/data");
  ASSERT_OK(t);
  EXPECT_EQ(t->url, "gs:appscode-qa:/sample/data");
  repo.spec.backend.gcs.reset();
  repo.spec.backend.s3 =
      Parse<apis::S3Spec>(R"({"endpoint": "http://127.0.0.1:9000", "bucket": "b", "prefix": "p/",
                              "region": "eu-west-1"})");
  auto s3 = ResolveRepository(repo, Secret(), "");
  ASSERT_OK(s3);
  EXPECT_EQ(s3->url, "s3:http://127.0.0.1:9000/b/p");
  EXPECT_EQ(s3->env.at("AWS_DEFAULT_REGION"), "eu-west-1");
  apis::Secret no_password = Secret();
  no_password.data.erase("RESTIC_PASSWORD");
  auto missing = ResolveRepository(repo, no_password, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("RESTIC_PASSWORD"), std::string::npos);
}

TEST(Runner, ErrorTextKeepsStderrAndDropsJsonLines) {
  ProcessResult r;
  r.exit_code = 1;
  r.err = "{\"message_type\":\"status\"}\nFatal: wrong password or no key found\n";
  EXPECT_EQ(ErrorText(r), "Fatal: wrong password or no key found");
  r.err.clear();
  EXPECT_EQ(ErrorText(r), "exit code 1");
}

TEST(Process, RunsACommandAndCapturesBothStreams) {
  auto r = RunProcess({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, {{"X", "1"}});
  ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  auto env = RunProcess({"/bin/sh", "-c", "printf %s \"$STASH_X\""}, {{"STASH_X", "v"}});
  ASSERT_OK(env);
  EXPECT_EQ(env->out, "v");
  EXPECT_FALSE(RunProcess({"/nonexistent/binary"}, {}).ok());
}

TEST(Lease, MicroTimeFormat) {
  SystemTime t = std::chrono::system_clock::from_time_t(1564726385) + std::chrono::microseconds(42);
  EXPECT_EQ(FormatMicroTime(t), "2019-08-02T06:13:05.000042Z");
}

// PodStatusFor on a pod written as JSON, its answer as JSON.
json StatusOf(const json& pod, const std::map<std::string, ContainerState>& states,
              const std::map<std::string, ContainerState>& init = {}, const RunScope& scope = {}) {
  auto decoded = apis::FromJson<apis::Pod>(pod);
  EXPECT_OK(decoded);
  return decoded.ok() ? apis::ToJson(PodStatusFor(*decoded, states, init, scope)) : json();
}

TEST(Pods, TemplateHashFollowsTheTemplateOnly) {
  json t =
      json::parse(R"({"metadata":{"labels":{"app":"a"}},"spec":{"containers":[{"name":"c"}]}})");
  std::string h = PodTemplateHash(t);
  EXPECT_EQ(h, PodTemplateHash(t));
  EXPECT_GE(h.size(), 1u);
  EXPECT_LE(h.size(), 10u);
  EXPECT_EQ(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
  t["spec"]["containers"].push_back({{"name", "stash"}});
  EXPECT_NE(PodTemplateHash(t), h);
}

TEST(Pods, OnlyContainersTheNodeRunsAreReported) {
  json pod = json::parse(R"({"metadata":{"name":"p","creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"containers":[{"name":"busybox","image":"busybox"},
                            {"name":"stash","image":"stash.appscode.com/stash:embedded"}]}})");
  std::map<std::string, ContainerState> states;
  states["stash"].running = true;
  json st = StatusOf(pod, states);
  EXPECT_EQ(st["phase"], "Pending");  // busybox never started: not Running
  EXPECT_EQ(st["containerStatuses"][0]["state"]["waiting"]["reason"], kNotRunReason);
  EXPECT_EQ(st["containerStatuses"][0]["ready"], false);
  EXPECT_TRUE(st["containerStatuses"][1]["state"].contains("running"));
  EXPECT_EQ(st["containerStatuses"][1]["ready"], true);
  states["stash"].running = false;
  states["stash"].restarts = 2;
  states["stash"].waiting_reason = "CrashLoopBackOff";
  st = StatusOf(pod, states);
  EXPECT_EQ(st["containerStatuses"][1]["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(st["containerStatuses"][1]["restartCount"], 2);
  pod["spec"]["containers"].erase(0);
  states["stash"].running = true;
  EXPECT_EQ(StatusOf(pod, states)["phase"], "Running");
  EXPECT_EQ(StatusOf(pod, states)["conditions"][3]["status"], "True");
  // Its readiness signal off (a sidecar the API server denies): running,
  // but neither the container nor the pod Ready, as a failing readiness probe.
  states["stash"].not_ready = true;
  st = StatusOf(pod, states);
  EXPECT_EQ(st["phase"], "Running");
  EXPECT_TRUE(st["containerStatuses"][0]["state"].contains("running"));
  EXPECT_EQ(st["containerStatuses"][0]["ready"], false);
  EXPECT_EQ(st["conditions"][3]["type"], "Ready");
  EXPECT_EQ(st["conditions"][3]["status"], "False");
  EXPECT_EQ(st["conditions"][3]["reason"], "ContainersNotReady");
}

// The node writes what a kubelet reports and keeps the rest of the status.
TEST(Pods, StatusKeepsWhatTheNodeDoesNotReport) {
  json pod = json::parse(R"({"metadata":{"name":"p","creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"containers":[{"name":"stash","image":"stash.appscode.com/stash:embedded"}]},
      "status":{"phase":"Pending","nominatedNodeName":"n2","resize":"Proposed",
                "podIP":"10.0.0.9","containerStatuses":[{"name":"old"}]}})");
  std::map<std::string, ContainerState> states;
  states["stash"].running = true;
  states["stash"].restarts = 3;
  json st = StatusOf(pod, states);
  EXPECT_EQ(st["nominatedNodeName"], "n2");
  EXPECT_EQ(st["resize"], "Proposed");
  EXPECT_EQ(st["phase"], "Running");
  EXPECT_EQ(st["podIP"], "127.0.0.1");
  EXPECT_EQ(st["podIPs"], json::parse(R"([{"ip":"127.0.0.1"}])"));
  EXPECT_EQ(st["hostIPs"], json::parse(R"([{"ip":"127.0.0.1"}])"));
  ASSERT_EQ(st["containerStatuses"].size(), 1u);
  EXPECT_EQ(st["containerStatuses"][0]["name"], "stash");
  EXPECT_EQ(st["containerStatuses"][0]["restartCount"], 3);
  EXPECT_EQ(st["containerStatuses"][0]["imageID"], "");
  EXPECT_EQ(st["containerStatuses"][0]["started"], true);
  EXPECT_EQ(st["qosClass"], "BestEffort");
  EXPECT_EQ(st["conditions"][3]["type"], "Ready");
  EXPECT_EQ(st["conditions"][3]["status"], "True");
  // What goes to the server: only the change; nothing when nothing changed.
  json sent = apis::MergePatchDiff(pod["status"], st);
  EXPECT_FALSE(sent.contains("nominatedNodeName"));
  EXPECT_EQ(sent["phase"], "Running");
  pod["status"] = st;
  EXPECT_TRUE(apis::MergePatchDiff(st, StatusOf(pod, states)).empty());
}

// As a kubelet: stash's init containers first; the pod is Pending with its
// containers waiting until they exited 0; a Job's pod ends Succeeded.
TEST(Pods, InitContainersGateThePod) {
  json pod = json::parse(R"({"metadata":{"name":"p","creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"initContainers":[{"name":"stash-init","image":"stash.appscode.com/stash:embedded"},
                                {"name":"user-init","image":"busybox"}],
              "containers":[{"name":"stash","image":"stash.appscode.com/stash:embedded"}]}})");
  std::map<std::string, ContainerState> states, init;
  init["stash-init"].running = true;
  json st = StatusOf(pod, states, init);
  EXPECT_EQ(st["phase"], "Pending");
  EXPECT_EQ(st["conditions"][1]["type"], "Initialized");
  EXPECT_EQ(st["conditions"][1]["status"], "False");
  EXPECT_TRUE(st["initContainerStatuses"][0]["state"].contains("running"));
  EXPECT_EQ(st["containerStatuses"][0]["state"]["waiting"]["reason"], "PodInitializing");

  // A failed attempt: back-off, with the exit code and the log's last lines.
  init["stash-init"].running = false;
  init["stash-init"].restarts = 1;
  init["stash-init"].waiting_reason = "CrashLoopBackOff";
  init["stash-init"].last_terminated = Termination{1, "Error", "snapshot not found", {}, {}};
  st = StatusOf(pod, states, init);
  EXPECT_EQ(st["initContainerStatuses"][0]["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(st["initContainerStatuses"][0]["lastState"]["terminated"]["message"],
            "snapshot not found");
  EXPECT_EQ(st["initContainerStatuses"][0]["restartCount"], 1);

  // Done: the busybox init container is not run and does not hold the pod.
  init["stash-init"].last_terminated.reset();
  init["stash-init"].terminated = Termination{0, "Completed", "", {}, {}};
  states["stash"].running = true;
  st = StatusOf(pod, states, init);
  EXPECT_EQ(st["conditions"][1]["status"], "True");
  EXPECT_EQ(st["initContainerStatuses"][1]["state"]["waiting"]["reason"], kNotRunReason);
  EXPECT_EQ(st["phase"], "Running");

  pod["spec"]["restartPolicy"] = "OnFailure";
  states["stash"] = ContainerState{};
  states["stash"].terminated = Termination{0, "Completed", "", {}, {}};
  EXPECT_EQ(StatusOf(pod, states, init)["phase"], "Succeeded");
  states["stash"].terminated->exit_code = 1;
  EXPECT_EQ(StatusOf(pod, states, init)["phase"], "Failed");
}

}  // namespace
}  // namespace stash::agent
