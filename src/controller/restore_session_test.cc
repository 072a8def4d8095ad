// The pure rules of the RestoreSession controller: validation, the
// stash-init container and its injection, restore Jobs, hosts and phases.
#include "stash/controller/restore_session.h"

#include <gtest/gtest.h>

#include "stash/apis/codec.h"
#include "stash/core/testing.h"

namespace stash::controller {
namespace {

using apis::json;

apis::RestoreSession Session(const std::string& text) {
  auto s = apis::FromJson<apis::RestoreSession>(json::parse(text));
  EXPECT_OK(s);
  return s.ok() ? *s : apis::RestoreSession{};
}

const char* kDeploymentSession = R"({
  "apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
  "metadata": {"name": "restore-demo", "namespace": "demo", "uid": "u-1"},
  "spec": {"repository": {"name": "gcs-repo"},
           "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
                      "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
                      "rules": [{"paths": ["/source/data"]}]}}})";

apis::Repository LocalRepository() {
  auto r = apis::FromJson<apis::Repository>(json::parse(R"({
    "metadata": {"name": "gcs-repo", "namespace": "demo"},
    "spec": {"backend": {"storageSecretName": "s",
                         "local": {"mountPath": "/safe/data", "hostPath": {"path": "/srv/repo"}}}}})"));
  EXPECT_OK(r);
  return *r;
}

apis::PodTemplateSpec Template() {
  auto t = apis::FromJson<apis::PodTemplateSpec>(json::parse(R"({
    "metadata": {"labels": {"app": "stash-demo"}},
    "spec": {"initContainers": [{"name": "user-init", "image": "busybox"}],
             "containers": [{"name": "busybox", "image": "busybox"}],
             "volumes": [{"name": "source-data",
                          "persistentVolumeClaim": {"claimName": "source-pvc"}}]}})"));
  EXPECT_OK(t);
  return *t;
}

TEST(RestoreSessionRulesTest, ValidationNamesTheProblem) {
  EXPECT_OK(ValidateRestoreSession(Session(kDeploymentSession)));
  auto expect_invalid = [](apis::RestoreSession s, const std::string& words) {
    Status v = ValidateRestoreSession(s);
    EXPECT_EQ(v.code(), Code::kInvalid) << words;
    EXPECT_NE(v.message().find(words), std::string::npos) << v.message();
  };
  apis::RestoreSession s = Session(kDeploymentSession);
  s.spec.target->rules.push_back({});
  s.spec.target->rules.push_back({});
  expect_invalid(s, "both have no targetHosts");
  s = Session(kDeploymentSession);
  s.spec.target->rules[0].snapshots = {"1a2b3c4d"};
  expect_invalid(s, "snapshots and paths are mutually exclusive");
  s = Session(kDeploymentSession);
  s.spec.target->ref.kind = "ReplicaSet";
  expect_invalid(s, "spec.target.ref.kind ReplicaSet is not supported");
  s = Session(kDeploymentSession);
  s.spec.hooks.emplace();
  expect_invalid(s, "spec.hooks");
  s = Session(kDeploymentSession);
  s.spec.time_out = "ten minutes";
  expect_invalid(s, "spec.timeOut");
  s = Session(kDeploymentSession);
  s.spec.driver = "VolumeSnapshotter";
  expect_invalid(s, "VolumeSnapshotter");
  s = Session(kDeploymentSession);
  s.spec.target.reset();
  expect_invalid(s, "spec.target is required");
}

TEST(RestoreSessionRulesTest, InitContainerIsPrependedWithTheTargetsMounts) {
  apis::RestoreSession s = Session(kDeploymentSession);
  apis::PodTemplateSpec tmpl = Template();
  apis::ObjectMeta meta;
  auto changed = InjectRestoreInit(&tmpl, &meta, s, LocalRepository());
  ASSERT_OK(changed);
  EXPECT_TRUE(*changed);
  ASSERT_EQ(tmpl.spec.init_containers.size(), 2u);
  const apis::Container& init = tmpl.spec.init_containers[0];
  EXPECT_EQ(init.name, "stash-init");
  EXPECT_EQ(tmpl.spec.init_containers[1].name, "user-init");
  EXPECT_EQ(init.args[0], "run-restore");
  EXPECT_NE(std::find(init.args.begin(), init.args.end(), "--invoker-name=restore-demo"),
            init.args.end());
  EXPECT_NE(std::find(init.args.begin(), init.args.end(), "--target-kind=Deployment"),
            init.args.end());
  // It says "init container" when refused; a restore Job says it is one.
  EXPECT_EQ(std::find(init.args.begin(), init.args.end(), "--restore-job"), init.args.end());
  ASSERT_EQ(init.volume_mounts.size(), 2u);
  EXPECT_EQ(init.volume_mounts[0].mount_path, "/source/data");
  EXPECT_EQ(init.volume_mounts[1].mount_path, "/safe/data");  // the local backend
  EXPECT_EQ(init.security_context->run_as_user, 0);
  EXPECT_EQ(tmpl.spec.volumes.back().name, "stash-restore-local-backend");
  EXPECT_EQ(tmpl.metadata.annotations.at("stash.appscode.com/last-applied-restore-invoker-hash"),
            RestoreInvokerHash(s));
  EXPECT_EQ(meta.annotations.at("stash.appscode.com/last-applied-restore-invoker"), "restore-demo");

  // Again: nothing changes (re-applying the session does not roll the pods).
  auto again = InjectRestoreInit(&tmpl, &meta, s, LocalRepository());
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  // A new session (another uid) is a new restore.
  apis::RestoreSession other = s;
  other.metadata.uid = "u-2";
  EXPECT_NE(RestoreInvokerHash(other), RestoreInvokerHash(s));

  EXPECT_TRUE(RemoveRestoreInit(&tmpl, &meta));
  EXPECT_EQ(tmpl, Template());  // as the user wrote it: the pods' hash comes back
  EXPECT_TRUE(meta.annotations.empty());
}

TEST(RestoreSessionRulesTest, ContainerRuntimeSettingsReachTheInitContainer) {
  apis::RestoreSession s = Session(R"({
    "metadata": {"name": "restore-demo", "namespace": "demo", "uid": "u-1"},
    "spec": {"repository": {"name": "gcs-repo"},
             "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "stash-demo"},
                        "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}]},
             "runtimeSettings": {"container": {
               "securityContext": {"runAsUser": 1000},
               "env": [{"name": "GOGC", "value": "50"}],
               "resources": {"limits": {"memory": "256Mi", "cpu": 1}}}}}})");
  EXPECT_OK(ValidateRestoreSession(s));
  apis::PodTemplateSpec tmpl = Template();
  apis::ObjectMeta meta;
  ASSERT_OK(InjectRestoreInit(&tmpl, &meta, s, LocalRepository()));
  const apis::Container& init = tmpl.spec.init_containers[0];
  EXPECT_EQ(init.security_context->run_as_user, 1000);  // not root: the user's choice
  EXPECT_FALSE(init.security_context->run_as_group.has_value());
  ASSERT_FALSE(init.env.empty());
  EXPECT_EQ(init.env.back().name, "GOGC");
  EXPECT_EQ(init.env.back().value, "50");
  EXPECT_EQ(init.resources, json::parse(R"({"limits": {"memory": "256Mi", "cpu": 1}})"));

  // What a restore container cannot honour is refused by name, not ignored.
  s.spec.runtime_settings.container.extra.fields = {{"nice", {{"adjustment", 5}}}};
  Status v = ValidateRestoreSession(s);
  EXPECT_EQ(v.code(), Code::kInvalid);
  EXPECT_NE(v.message().find("spec.runtimeSettings.container.nice is not supported"),
            std::string::npos)
      << v.message();
  // A malformed one names the field when read.
  auto bad = apis::FromJson<apis::RestoreSession>(
      json::parse(R"({"spec": {"runtimeSettings": {"container": {"env": [{"name": 3}]}}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("spec.runtimeSettings.container.env[0].name"),
            std::string::npos)
      << bad.status().message();
}

TEST(RestoreSessionRulesTest, MountOfAnUnknownVolumeIsInvalid) {
  apis::RestoreSession s = Session(kDeploymentSession);
  s.spec.target->volume_mounts[0].name = "nope";
  apis::PodTemplateSpec tmpl = Template();
  apis::ObjectMeta meta;
  auto r = InjectRestoreInit(&tmpl, &meta, s, LocalRepository());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("volume \"nope\" is not a volume of the pod template"),
            std::string::npos);
}

TEST(RestoreSessionRulesTest, JobsMountTheirClaims) {
  apis::RestoreSession s = Session(R"({
    "metadata": {"name": "restore-pvc", "namespace": "demo", "uid": "u-3"},
    "spec": {"repository": {"name": "gcs-repo"},
             "target": {"ref": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                "name": "restore-pvc"},
                        "volumeMounts": [{"name": "restore-pvc", "mountPath": "/source/data"}],
                        "rules": [{"snapshots": ["latest"]}]}}})");
  EXPECT_OK(ValidateRestoreSession(s));
  EXPECT_EQ(ModeOf(s), RestoreMode::kJob);
  apis::Job job = RestoreJob(s, LocalRepository(), -1);
  EXPECT_EQ(job.metadata.name, "stash-restore-restore-pvc");
  EXPECT_EQ(job.metadata.owner_references[0].kind, "RestoreSession");
  const apis::PodSpec& pod = job.spec.template_.spec;
  ASSERT_EQ(pod.containers.size(), 1u);
  EXPECT_EQ(pod.volumes[0].source.persistent_volume_claim->claim_name, "restore-pvc");
  EXPECT_EQ(pod.containers[0].volume_mounts[0].mount_path, "/source/data");
  EXPECT_NE(
      std::find(pod.containers[0].args.begin(), pod.containers[0].args.end(), "--host=host-0"),
      pod.containers[0].args.end());
  EXPECT_NE(
      std::find(pod.containers[0].args.begin(), pod.containers[0].args.end(), "--restore-job"),
      pod.containers[0].args.end());
  EXPECT_EQ(TotalHosts(s, nullptr, 0), 1);

  apis::RestoreSession sts = Session(R"({
    "metadata": {"name": "restore-sts", "namespace": "demo", "uid": "u-4"},
    "spec": {"repository": {"name": "gcs-repo"},
             "target": {"replicas": 3,
                        "volumeMounts": [{"name": "data", "mountPath": "/source/data"}],
                        "volumeClaimTemplates": [{"metadata": {"name": "data-${POD_ORDINAL}"},
                                                  "spec": {"accessModes": ["ReadWriteOnce"]}}],
                        "rules": [{"sourceHost": "host-0", "paths": ["/source/data"]}]}}})");
  EXPECT_OK(ValidateRestoreSession(sts));
  EXPECT_EQ(ModeOf(sts), RestoreMode::kJob);
  EXPECT_EQ(TotalHosts(sts, nullptr, 0), 3);
  auto claims = RestoreClaims(sts, 2);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].metadata.name, "data-2");
  apis::Job j2 = RestoreJob(sts, LocalRepository(), 2);
  EXPECT_EQ(j2.metadata.name, "stash-restore-restore-sts-2");
  EXPECT_EQ(j2.spec.template_.spec.volumes[0].name, "data");
  EXPECT_EQ(j2.spec.template_.spec.volumes[0].source.persistent_volume_claim->claim_name, "data-2");
  const auto& args = j2.spec.template_.spec.containers[0].args;
  EXPECT_NE(std::find(args.begin(), args.end(), "--host=host-2"), args.end());
}

TEST(RestoreSessionRulesTest, PhaseOnceEveryHostReported) {
  apis::RestoreSessionStatus st;
  auto host = [](std::string name, std::string phase) {
    apis::HostRestoreStats h;
    h.hostname = std::move(name);
    h.phase = std::move(phase);
    return h;
  };
  st.stats = {host("host-0", "Succeeded"), host("host-1", "Running")};
  EXPECT_EQ(CompletedPhase(st, 2), "");
  st.stats[1].phase = "Succeeded";
  EXPECT_EQ(CompletedPhase(st, 2), "Succeeded");
  st.stats.push_back(host("host-2", "Failed"));
  EXPECT_EQ(CompletedPhase(st, 3), "Failed");
  st.stats[2].phase = "Unknown";
  EXPECT_EQ(CompletedPhase(st, 3), "Unknown");
}

}  // namespace
}  // namespace stash::controller
