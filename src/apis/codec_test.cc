#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "stash/apis/apps.h"
#include "stash/apis/backup.h"
#include "stash/apis/batch.h"
#include "stash/apis/coordination.h"
#include "stash/apis/core.h"
#include "stash/apis/node.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
#include "stash/core/testing.h"

namespace stash::apis {
namespace {

// YAML as the apiserver reads it: plain scalars become numbers, booleans and
// null where they look like one; quoted scalars stay strings.
json YamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& e : n) out.push_back(YamlToJson(e));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~") return nullptr;
      if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos) {
        return std::stoll(s);
      }
      return s;
    }
    default:
      return nullptr;
  }
}

std::vector<json> SeedDocuments(const std::string& file) {
  std::vector<json> out;
  for (const YAML::Node& doc : YAML::LoadAllFromFile(std::string(STASH_SEED_DIR) + "/" + file)) {
    out.push_back(YamlToJson(doc));
  }
  return out;
}

template <class T>
void ExpectRoundTrip(const json& in) {
  auto obj = FromJson<T>(in);
  ASSERT_OK(obj) << in.dump();
  EXPECT_EQ(ToJson(*obj).dump(), in.dump());
}

TEST(Codec, SeedManifestsRoundTripByteForByte) {
  ExpectRoundTrip<BackupConfiguration>(SeedDocuments("backupconfiguration.yaml").at(0));
  ExpectRoundTrip<BackupSession>(SeedDocuments("backupsession.yaml").at(0));
  ExpectRoundTrip<Repository>(SeedDocuments("repository.yaml").at(0));
  std::vector<json> docs = SeedDocuments("deployment.yaml");
  ASSERT_EQ(docs.size(), 2u);
  ExpectRoundTrip<PersistentVolumeClaim>(docs[0]);
  ExpectRoundTrip<Deployment>(docs[1]);
}

TEST(Codec, SeedFieldsLandInTheirMembers) {
  auto bc = FromJson<BackupConfiguration>(SeedDocuments("backupconfiguration.yaml").at(0));
  ASSERT_OK(bc);
  EXPECT_EQ(bc->metadata.Key(), "demo/pause-backup");
  EXPECT_EQ(bc->spec.schedule, "*/5 * * * *");
  EXPECT_EQ(bc->spec.repository.name, "gcs-repo");
  ASSERT_TRUE(bc->spec.target);
  EXPECT_EQ(bc->spec.target->ref.kind, "Deployment");
  EXPECT_EQ(bc->spec.target->paths, std::vector<std::string>{"/source/data"});
  EXPECT_EQ(bc->spec.target->volume_mounts.at(0).mount_path, "/source/data");
  ASSERT_TRUE(bc->spec.retention_policy);
  EXPECT_EQ(bc->spec.retention_policy->keep_last, 5);
  EXPECT_TRUE(bc->spec.retention_policy->prune);
  EXPECT_TRUE(bc->extra.fields.is_null());

  auto d = FromJson<Deployment>(SeedDocuments("deployment.yaml").at(1));
  ASSERT_OK(d);
  EXPECT_EQ(d->spec.replicas, 3);
  const PodSpec& pod = d->spec.template_.spec;
  EXPECT_EQ(pod.containers.at(0).command, (std::vector<std::string>{"/bin/sh", "-c"}));
  ASSERT_TRUE(pod.volumes.at(0).source.persistent_volume_claim);
  EXPECT_EQ(pod.volumes.at(0).source.persistent_volume_claim->claim_name, "source-pvc");
  EXPECT_EQ(d->spec.template_.metadata.name, "busybox");
}

// What a user may write that the operator does not model, at every level.
json RichDeployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "demo", "resourceVersion": "7", "generation": 2,
      "labels": {"app": "web"}, "managedFields": [{"manager": "kubectl"}],
      "annotations": {"deployment.kubernetes.io/revision": "1"}},
    "spec": {"replicas": 2, "paused": false, "revisionHistoryLimit": 4,
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
      "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}, "annotations": {"x": "y"}},
        "spec": {"hostNetwork": false, "dnsPolicy": "ClusterFirst",
          "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
          "securityContext": {"runAsUser": 0, "sysctls": [{"name": "a", "value": "1"}]},
          "containers": [{"name": "app", "image": "nginx", "env": [],
            "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "1"}},
            "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
            "securityContext": {"privileged": false, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumeMounts": [{"name": "cache", "mountPath": "/cache", "readOnly": false}]}],
          "volumes": [{"name": "cache", "emptyDir": {}},
                      {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}}]}}},
    "status": {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]}})");
}

TEST(Codec, UnmodelledMembersAndExplicitZerosSurviveAWriteBack) {
  const json in = RichDeployment();
  auto d = FromJson<Deployment>(in);
  ASSERT_OK(d);
  EXPECT_EQ(ToJson(*d), in);  // nothing dropped, nothing added

  // The operator's kind of change: add a container and a volume, bump a label.
  Container sidecar;
  sidecar.name = "stash";
  sidecar.image = "stash";
  d->spec.template_.spec.containers.push_back(sidecar);
  Volume v;
  v.name = "repo";
  v.source.host_path.emplace().path = "/srv/repo";
  d->spec.template_.spec.volumes.push_back(v);
  json out = ToJson(*d);
  json expected = in;
  expected["spec"]["template"]["spec"]["containers"].push_back(
      {{"name", "stash"}, {"image", "stash"}});
  expected["spec"]["template"]["spec"]["volumes"].push_back(
      {{"name", "repo"}, {"hostPath", {{"path", "/srv/repo"}}}});
  EXPECT_EQ(out, expected) << out.dump(2);
  // ... and taking it out again gives the user's object back exactly.
  d->spec.template_.spec.containers.pop_back();
  d->spec.template_.spec.volumes.pop_back();
  EXPECT_EQ(ToJson(*d), in);
}

TEST(Codec, ZeroValuesSetByCodeAreOmittedAndPointersKeepTheirZero) {
  CronJob cj;
  cj.metadata.name = "t";
  cj.spec.schedule = "@hourly";
  cj.spec.suspend = false;  // a pointer in Go: written even when false
  json j = ToJson(cj);
  EXPECT_EQ(j, json::parse(R"({"metadata": {"name": "t"},
                               "spec": {"schedule": "@hourly", "suspend": false}})"));
  ContainerStatus st;  // Go writes ready/restartCount/image/imageID always
  st.name = "c";
  EXPECT_EQ(ToJson(st), json::parse(R"({"name": "c", "ready": false, "restartCount": 0,
                                        "image": "", "imageID": ""})"));
}

TEST(Codec, ErrorsNameTheField) {
  json in = RichDeployment();
  in["spec"]["template"]["spec"]["containers"][0]["env"] = json::parse(R"([{"name": 5}])");
  auto d = FromJson<Deployment>(in);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kInvalid);
  EXPECT_EQ(d.status().message(),
            "spec.template.spec.containers[0].env[0].name: expected a string, got integer");

  json labels = RichDeployment();
  labels["metadata"]["labels"]["app"] = true;
  EXPECT_EQ(FromJson<Deployment>(labels).status().message(),
            "metadata.labels[app]: expected a string, got boolean");
  EXPECT_EQ(FromJson<Deployment>(json::array()).status().message(), "expected an object, got list");
  json replicas = RichDeployment();
  replicas["spec"]["replicas"] = 1LL << 40;
  EXPECT_EQ(FromJson<Deployment>(replicas).status().message(),
            "spec.replicas: integer out of the int32 range");
}

TEST(Codec, SecretDataIsDecodedAndReencoded) {
  json in = json::parse(R"({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
      "metadata": {"name": "s", "namespace": "demo"},
      "data": {"RESTIC_PASSWORD": "Y2hhbmdlaXQ=", "EMPTY": ""}})");
  auto s = FromJson<Secret>(in);
  ASSERT_OK(s);
  EXPECT_EQ(std::string(s->data.at("RESTIC_PASSWORD")), "changeit");
  EXPECT_EQ(std::string(s->data.at("EMPTY")), "");
  EXPECT_EQ(ToJson(*s), in);
  in["data"]["BAD"] = "not base64!";
  auto bad = FromJson<Secret>(in);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("data[BAD]: illegal base64 data", 0), 0u)
      << bad.status().message();
}

TEST(Codec, NullReadsAsAbsent) {
  auto r = FromJson<Repository>(json::parse(
      R"({"metadata": {"name": "r", "creationTimestamp": null},
          "spec": {"backend": {"storageSecretName": "s", "s3": null}}})"));
  ASSERT_OK(r);
  EXPECT_FALSE(r->spec.backend.s3);
  EXPECT_EQ(ToJson(*r), json::parse(R"({"metadata": {"name": "r"},
                                        "spec": {"backend": {"storageSecretName": "s"}}})"));
}

TEST(Codec, StashStatusesRoundTrip) {
  json bs = json::parse(R"({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupSession",
    "metadata": {"name": "b-1", "namespace": "demo", "labels": {"a": "b"},
      "ownerReferences": [{"apiVersion": "stash.appscode.com/v1beta1",
        "kind": "BackupConfiguration", "name": "b", "uid": "u", "controller": true,
        "blockOwnerDeletion": true}]},
    "spec": {"invoker": {"apiGroup": "stash.appscode.com", "kind": "BackupConfiguration",
                         "name": "b"}},
    "status": {"phase": "Succeeded", "sessionDuration": "3s",
      "conditions": [{"type": "RetentionPolicyApplied", "status": "True",
        "reason": "SuccessfullyAppliedRetentionPolicy", "message": "ok",
        "lastTransitionTime": "2026-11-26T06:00:00Z"}],
      "targets": [{"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
        "totalHosts": 1, "phase": "Succeeded",
        "stats": [{"hostname": "host-0", "phase": "Succeeded", "duration": "1.5s",
          "snapshots": [{"name": "1a2b3c4d", "path": "/data", "totalSize": "12 B",
            "uploaded": "1.000 KiB", "processingTime": "0:00",
            "fileStats": {"totalFiles": 1, "newFiles": 0, "modifiedFiles": 0,
                          "unmodifiedFiles": 1}}]}]}]}})");
  ExpectRoundTrip<BackupSession>(bs);
  auto typed = FromJson<BackupSession>(bs);
  ASSERT_OK(typed);
  EXPECT_EQ(typed->status.targets.at(0).stats.at(0).snapshots.at(0).file_stats.new_files, 0);

  json rs = json::parse(R"({"apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
    "metadata": {"name": "r", "namespace": "demo"},
    "spec": {"repository": {"name": "repo"}, "driver": "Restic", "timeOut": "30m",
      "task": {"name": "pvc-restore", "params": [{"name": "a", "value": "b"}]},
      "target": {"alias": "app", "replicas": 3,
        "ref": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "volumeClaimTemplates": [{"metadata": {"name": "data-${POD_ORDINAL}"},
          "spec": {"accessModes": ["ReadWriteOnce"],
                   "resources": {"requests": {"storage": "1Gi"}}}}],
        "rules": [{"targetHosts": ["host-1"], "sourceHost": "host-0", "paths": ["/data"],
                   "exclude": ["*.tmp"], "include": ["/data/a"]},
                  {"snapshots": ["1a2b3c4d"]}]},
      "hooks": {"preRestore": {"exec": {"command": ["/bin/sh", "-c", "true"]},
                               "containerName": "app"},
                "postRestore": {"httpPost": {"path": "/x", "port": 8080, "scheme": "HTTP",
                  "form": [{"key": "k", "values": ["v"]}]}, "executionPolicy": "OnSuccess"}},
      "runtimeSettings": {"container": {"nice": {"adjustment": 5}}},
      "tempDir": {"medium": "Memory", "sizeLimit": "1Gi", "disableCaching": true}},
    "status": {"phase": "Running", "totalHosts": 3, "sessionDeadline": "2026-11-26T07:00:00Z",
      "stats": [{"hostname": "host-0", "phase": "Succeeded", "duration": "2s"}],
      "conditions": [{"type": "RestoreTargetFound", "status": "True"}]}})");
  ExpectRoundTrip<RestoreSession>(rs);
  auto restore = FromJson<RestoreSession>(rs);
  ASSERT_OK(restore);
  EXPECT_EQ(restore->spec.target->rules.at(0).source_host, "host-0");
  EXPECT_EQ(restore->spec.hooks->post_restore->execution_policy, "OnSuccess");
  EXPECT_EQ(restore->spec.target->volume_claim_templates.at(0).spec.access_modes.at(0),
            "ReadWriteOnce");
  EXPECT_EQ(restore->status.total_hosts, 3);
}

TEST(Codec, LocalBackendInlinesItsVolumeSource) {
  json in = json::parse(R"({"metadata": {"name": "r", "namespace": "demo"},
    "spec": {"backend": {"storageSecretName": "s",
      "local": {"mountPath": "/safe", "subPath": "x", "hostPath": {"path": "/var/backup"},
                "csi": {"driver": "d"}}}}})");
  auto r = FromJson<Repository>(in);
  ASSERT_OK(r);
  const LocalSpec& local = *r->spec.backend.local;
  EXPECT_EQ(local.source.host_path->path, "/var/backup");
  EXPECT_EQ(local.mount_path, "/safe");
  EXPECT_EQ(local.extra.fields, json::parse(R"({"csi": {"driver": "d"}})"));
  EXPECT_EQ(ToJson(*r), in);
}

TEST(Conditions, TransitionTimeMovesOnlyOnFlips) {
  std::vector<Condition> conds;
  SystemTime t0 = std::chrono::system_clock::from_time_t(1000000000);
  EXPECT_TRUE(SetCondition(&conds, "RepositoryFound", true, "RepositoryAvailable", "m", t0, 1));
  EXPECT_FALSE(SetCondition(&conds, "RepositoryFound", true, "RepositoryAvailable", "m",
                            t0 + std::chrono::hours(1), 1));
  std::string first = conds[0].last_transition_time;
  EXPECT_EQ(first, "2001-09-09T01:46:40Z");
  EXPECT_TRUE(SetCondition(&conds, "RepositoryFound", false, "RepositoryNotAvailable", "gone",
                           t0 + std::chrono::hours(2), 1));
  EXPECT_NE(conds[0].last_transition_time, first);
  EXPECT_EQ(conds.size(), 1u);
  EXPECT_EQ(ConditionStatus(conds, "RepositoryFound"), "False");
  EXPECT_EQ(ConditionStatus(conds, "Other"), "");
  EXPECT_EQ(ToJson(conds[0]).value("observedGeneration", 0), 1);
}

TEST(Codec, LeaseAndJobRoundTrip) {
  ExpectRoundTrip<Lease>(json::parse(R"({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "l", "namespace": "demo"},
    "spec": {"holderIdentity": "", "leaseDurationSeconds": 15, "leaseTransitions": 0,
             "acquireTime": "2026-11-26T06:00:00.000000Z",
             "renewTime": "2026-11-26T06:00:00.000000Z"}})"));
  ExpectRoundTrip<Job>(json::parse(R"({"apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "j", "namespace": "demo"},
    "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
      "containers": [{"name": "c", "image": "i",
        "env": [{"name": "P", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}}},
    "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}})"));
}

}  // namespace
TEST(Codec, MergePatchDiffTurnsOneDocumentIntoTheOther) {
  json from = json::parse(R"({"a":1,"b":{"c":2,"d":3},"e":[1,2],"f":"x","g":{"h":1}})");
  json to = json::parse(R"({"a":1,"b":{"c":2,"d":4,"n":5},"e":[1],"g":{}})");
  json patch = MergePatchDiff(from, to);
  EXPECT_EQ(patch, json::parse(R"({"b":{"d":4,"n":5},"e":[1],"f":null,"g":{"h":null}})"));
  json applied = from;
  applied.merge_patch(patch);
  EXPECT_EQ(applied, to);
  EXPECT_EQ(MergePatchDiff(to, to), json::object());
  // A status counter back at zero: omitted by ToJson, so removed by the patch.
  JobStatus before, after;
  before.active = 1;
  EXPECT_EQ(MergePatchDiff(ToJson(before), ToJson(after)), json::parse(R"({"active":null})"));
}

TEST(Codec, AKubeletsNodeRoundTripsAndItsConditionsLandInTheirMembers) {
  const json in = json::parse(R"({"apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
    "spec": {"podCIDR": "10.244.0.0/24", "taints": [{"key": "k", "effect": "NoSchedule"}]},
    "status": {"capacity": {"cpu": "2", "pods": "110"}, "allocatable": {"cpu": "2"},
      "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": "2026-12-07T15:00:10Z",
        "lastTransitionTime": "2026-12-07T15:00:00Z"}],
      "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
      "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
      "images": [{"names": ["busybox"], "sizeBytes": 4261574}],
      "nodeInfo": {"machineID": "m", "systemUUID": "u", "bootID": "b", "kernelVersion": "6.1",
        "osImage": "Debian", "containerRuntimeVersion": "containerd://1.7",
        "kubeletVersion": "v1.32.4", "kubeProxyVersion": "", "operatingSystem": "linux",
        "architecture": "amd64"}}})");
  ExpectRoundTrip<Node>(in);
  auto node = FromJson<Node>(in);
  ASSERT_OK(node);
  ASSERT_EQ(node->status.conditions.size(), 1u);
  EXPECT_EQ(node->status.conditions[0].last_transition_time, "2026-12-07T15:00:00Z");
  EXPECT_EQ(node->status.capacity.at("pods"), "110");
  EXPECT_EQ(node->status.daemon_endpoints.kubelet_endpoint.port, 10250);
  EXPECT_EQ(node->status.node_info.kubelet_version, "v1.32.4");
  EXPECT_EQ(ToJson(node->status.node_info).at("kubeProxyVersion"), "");  // Go writes it empty
}

// What the embedded node reads of a pod: envFrom, configMap volumes and
// items, tty/stdin, podIPs; a ConfigMap's binaryData decoded.
TEST(Codec, PodPartsOfTheNodeLandInTheirMembers) {
  const json in = json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"serviceAccount": "old", "containers": [{"name": "c", "tty": true, "stdin": true,
        "envFrom": [{"prefix": "P_", "configMapRef": {"name": "cm"}},
                    {"secretRef": {"name": "s", "optional": true}}]}],
      "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420,
                   "items": [{"key": "k", "path": "f"}]}},
                  {"name": "w", "secret": {"secretName": "s", "items": [{"key": "a", "path": "b"}]}},
                  {"name": "x", "projected": {"sources": []}}]},
    "status": {"podIPs": [{"ip": "10.0.0.2"}], "hostIPs": [{"ip": "10.0.0.1"}]}})");
  ExpectRoundTrip<Pod>(in);
  auto pod = FromJson<Pod>(in);
  ASSERT_OK(pod);
  const Container& c = pod->spec.containers[0];
  EXPECT_TRUE(c.tty && c.stdin);
  ASSERT_EQ(c.env_from.size(), 2u);
  EXPECT_EQ(c.env_from[0].prefix, "P_");
  EXPECT_EQ(c.env_from[0].config_map_ref->name, "cm");
  EXPECT_EQ(c.env_from[1].secret_ref->optional, true);
  EXPECT_EQ(pod->spec.service_account, "old");
  ASSERT_TRUE(pod->spec.volumes[0].source.config_map);
  EXPECT_EQ(pod->spec.volumes[0].source.config_map->items[0].path, "f");
  EXPECT_EQ(pod->spec.volumes[0].source.config_map->default_mode, 420);
  EXPECT_EQ(pod->spec.volumes[1].source.secret->items[0].key, "a");
  EXPECT_EQ(pod->status.pod_ips[0].ip, "10.0.0.2");

  auto cm =
      FromJson<ConfigMap>(json::parse(R"({"data": {"a": "1"}, "binaryData": {"b": "AAE="}})"));
  ASSERT_OK(cm);
  EXPECT_EQ(cm->binary_data.at("b"), std::string("\x00\x01", 2));
  auto bad =
      FromJson<Pod>(json::parse(R"({"spec": {"containers": [{"envFrom": [{"prefix": 1}]}]}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "spec.containers[0].envFrom[0].prefix: expected a string, got integer");
}

}  // namespace stash::apis
