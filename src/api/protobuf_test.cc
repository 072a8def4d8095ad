#include "stash/api/protobuf.h"

#include <gtest/gtest.h>

#include <set>

#include "protobuf_schema.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

json Decode(const std::string& body) {
  Result<json> r = DecodeProtobufObject(body);
  EXPECT_OK(r);
  return r.ok() ? *r : json();
}

// `kubectl create ns demo` (kubectl 1.32.4), kubectl-contract.md §3.1.
const std::string kCreateNamespace = Unhex(
    "6b3873000a0f0a02763112094e616d657370616365121c0a140a0464656d6f12001a0022002a0032003800420012"
    "001a020a001a002200");

TEST(ProtobufTest, KubectlCreateNamespace) {
  EXPECT_EQ(kCreateNamespace.size(), 55u);
  EXPECT_TRUE(HasProtobufMagic(kCreateNamespace));
  EXPECT_EQ(Decode(kCreateNamespace),
            json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"},
                            "spec":{},"status":{}})"));
}

// `kubectl create secret generic -n demo gcs-secret --from-file=./RESTIC_PASSWORD`
// with RESTIC_PASSWORD = "changeit", captured from kubectl 1.32.4 (§3.2): the
// value travels as raw bytes and must come out base64-encoded, as in JSON.
TEST(ProtobufTest, KubectlCreateSecretFromFile) {
  const std::string body = Unhex(
      "6b3873000a0c0a0276311206536563726574123f0a1e0a0a6763732d73656372657412001a0464656d6f22002a"
      "00320038004200121b0a0f5245535449435f50415353574f524412086368616e676569741a001a002200");
  EXPECT_EQ(Decode(body), json::parse(R"({"apiVersion":"v1","kind":"Secret",
      "metadata":{"name":"gcs-secret","namespace":"demo"},
      "data":{"RESTIC_PASSWORD":"Y2hhbmdlaXQ="}})"));
}

// The same body with two bytes of the name that are not UTF-8 (found by
// fuzz_api_protobuf): strings come out valid, as kube-apiserver encodes them.
TEST(ProtobufTest, InvalidUtf8InAStringBecomesReplacementCharacters) {
  const std::string body = Unhex(
      "6b3873000a0c0a0276311206536563726574123f0a1e0a0a6763732d739b9f7265741200"
      "1a0464656d6f22002a00320038004200121b0a0f5245535449435f50415353574f524412"
      "086368616e676569741a001a002200");
  const json object = Decode(body);
  EXPECT_EQ(object["metadata"]["name"], "gcs-s\xef\xbf\xbd\xef\xbf\xbdret");
  EXPECT_NO_THROW((void)object.dump());
}

// `kubectl create configmap -n demo cm1 --from-literal=a=b --from-file=bin=...`.
TEST(ProtobufTest, KubectlCreateConfigMap) {
  const std::string body = Unhex(
      "6b3873000a0f0a0276311209436f6e6669674d617012320a170a03636d3112001a0464656d6f22002a00320038"
      "00420012060a0161120162120f0a0362696e12086368616e676569741a002200");
  EXPECT_EQ(Decode(body), json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cm1","namespace":"demo"},"data":{"a":"b","bin":"changeit"}})"));
}

// A minimal protobuf encoder for building vectors with more fields.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string Len(int field, const std::string& payload) {
  return Varint((uint64_t(field) << 3) | 2) + Varint(payload.size()) + payload;
}
std::string VarintField(int field, uint64_t v) { return Varint(uint64_t(field) << 3) + Varint(v); }
std::string Entry(const std::string& k, const std::string& v) { return Len(1, k) + Len(2, v); }
std::string Envelope(const std::string& api_version, const std::string& kind,
                     const std::string& raw) {
  return std::string("k8s\0", 4) + Len(1, Len(1, api_version) + Len(2, kind)) + Len(2, raw) +
         Len(3, "") + Len(4, "");
}

TEST(ProtobufTest, FullObjectMetaAndBinarySecretData) {
  const std::string meta =
      Len(1, "") + Len(2, "gcs-") + Len(3, "demo") + Len(6, "42") + VarintField(7, 3) +
      Len(8, VarintField(1, 1795673820)) + Len(11, Entry("app", "stash-demo")) +
      Len(11, Entry("tier", "db")) +
      Len(12, Entry("kubectl.kubernetes.io/last-applied-configuration", "{}\n")) +
      Len(13, Len(1, "BackupConfiguration") + Len(3, "pause-backup") + Len(4, "u-1") +
                  Len(5, "stash.appscode.com/v1beta1") + VarintField(6, 1) + VarintField(7, 0)) +
      Len(14, "stash.appscode.com") + Len(14, "kubernetes") +
      Len(17, "managed fields are ignored") + Len(99, "a future field");
  const std::string binary("\x00\xff\x10", 3);
  const std::string secret = Len(1, meta) + Len(2, Entry("key", binary)) +
                             Len(2, Entry("empty", "")) + Len(3, "kubernetes.io/basic-auth") +
                             Len(4, Entry("username", "admin")) + VarintField(5, 1);
  EXPECT_EQ(Decode(Envelope("v1", "Secret", secret)), json::parse(R"({
      "apiVersion":"v1","kind":"Secret",
      "metadata":{"generateName":"gcs-","namespace":"demo","resourceVersion":"42","generation":3,
        "creationTimestamp":"2026-11-26T06:17:00Z",
        "labels":{"app":"stash-demo","tier":"db"},
        "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"},
        "ownerReferences":[{"kind":"BackupConfiguration","name":"pause-backup","uid":"u-1",
          "apiVersion":"stash.appscode.com/v1beta1","controller":true,"blockOwnerDeletion":false}],
        "finalizers":["stash.appscode.com","kubernetes"]},
      "data":{"key":"AP8Q","empty":""},"type":"kubernetes.io/basic-auth",
      "stringData":{"username":"admin"},"immutable":true})"));
}

TEST(ProtobufTest, DeleteOptions) {
  const std::string opts = VarintField(1, 0) + Len(2, Len(1, "u-1") + Len(2, "7")) +
                           Len(4, "Background") + Len(5, "All");
  EXPECT_EQ(Decode(Envelope("meta.k8s.io/v1", "DeleteOptions", opts)),
            json::parse(R"({"apiVersion":"meta.k8s.io/v1","kind":"DeleteOptions",
                            "gracePeriodSeconds":0,
                            "preconditions":{"uid":"u-1","resourceVersion":"7"},
                            "propagationPolicy":"Background","dryRun":["All"]})"));
}

TEST(ProtobufTest, MalformedBodiesAreInvalid) {
  const char* cases[] = {"", "k8s", "{\"kind\":\"Namespace\"}"};
  for (const char* body : cases) {
    Result<json> r = DecodeProtobufObject(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
  }
  // Every strict prefix of a real body is truncated somewhere.
  for (size_t n = 5; n < kCreateNamespace.size(); ++n) {
    Result<json> r = DecodeProtobufObject(kCreateNamespace.substr(0, n));
    if (r.ok()) {
      // A cut exactly between fields is a valid (shorter) message; it must
      // then not invent anything.
      EXPECT_LE(r->dump().size(), Decode(kCreateNamespace).dump().size()) << n;
      continue;
    }
    EXPECT_EQ(r.status().code(), Code::kInvalid) << n;
    EXPECT_NE(r.status().message().find("malformed"), std::string::npos) << r.status();
  }
  std::string wrong_wire = Envelope("v1", "Namespace", Len(1, VarintField(1, 5)));
  EXPECT_EQ(DecodeProtobufObject(wrong_wire).status().code(), Code::kInvalid);
  std::string group = Envelope("v1", "Namespace", std::string("\x0b", 1));  // wire type 3
  EXPECT_EQ(DecodeProtobufObject(group).status().code(), Code::kInvalid);
}

TEST(ProtobufTest, UnknownKindsAreUnsupported) {
  Result<json> r = DecodeProtobufObject(Envelope("policy/v1", "PodDisruptionBudget", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupported);
  EXPECT_NE(r.status().message().find("PodDisruptionBudget"), std::string::npos);
}

// `kubectl create service clusterip web --tcp=80:8080 --tcp=443:8443`
// (kubectl 1.32.4 sends generated Services as protobuf).
TEST(ProtobufTest, KubectlCreateServiceClusterIp) {
  const std::string body = Unhex(
      "6b3873000a0d0a0276311207536572766963651288010a1f0a0377656212001a0022002a00320038004200"
      "5a0a0a03617070120377656212610a1b0a0738302d38303830120354435018502207080010903f1a002800"
      "0a1d0a083434332d38343433120354435018bb032207080010fb411a002800120a0a0361707012037765"
      "621a002209436c757374657249503a00420052005a00600068001a020a001a002200");
  EXPECT_EQ(Decode(body), json::parse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"web","labels":{"app":"web"}},
      "spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080},
                       {"name":"443-8443","protocol":"TCP","port":443,"targetPort":8443}],
              "selector":{"app":"web"},"type":"ClusterIP"},
      "status":{"loadBalancer":{}}})"));
}

// `kubectl create service nodeport np --tcp=5678:8080 --node-port=30080`,
// `... externalname ext --external-name=example.com` and
// `... clusterip headless --clusterip=None`.
TEST(ProtobufTest, KubectlCreateServiceOtherTypes) {
  EXPECT_EQ(Decode(Unhex("6b3873000a0d0a027631120753657276696365126a0a1d0a026e7012001a0022002a0032"
                         "00380042005a090a0361707012026e7012450a200a09353637382d383038301203544350"
                         "18ae2c2207080010903f1a002880eb0112090a0361707012026e701a0022084e6f646550"
                         "6f72743a00420052005a00600068001a020a001a002200")),
            json::parse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"np","labels":{"app":"np"}},
      "spec":{"ports":[{"name":"5678-8080","protocol":"TCP","port":5678,"targetPort":8080,
                        "nodePort":30080}],
              "selector":{"app":"np"},"type":"NodePort"},
      "status":{"loadBalancer":{}}})"));
  EXPECT_EQ(Decode(Unhex("6b3873000a0d0a027631120753657276696365125a0a1f0a0365787412001a0022002a00"
                         "3200380042005a0a0a0361707012036578741233120a0a0361707012036578741a0022"
                         "0c45787465726e616c4e616d653a004200520b6578616d706c652e636f6d5a00600068"
                         "001a020a001a002200")),
            json::parse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"ext","labels":{"app":"ext"}},
      "spec":{"selector":{"app":"ext"},"type":"ExternalName","externalName":"example.com"},
      "status":{"loadBalancer":{}}})"));
  EXPECT_EQ(Decode(Unhex("6b3873000a0d0a027631120753657276696365125f0a290a08686561646c6573731200"
                         "1a0022002a003200380042005a0f0a036170701208686561646c657373122e120f0a03"
                         "6170701208686561646c6573731a044e6f6e652209436c757374657249503a00420052"
                         "005a00600068001a020a001a002200")),
            json::parse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"headless","labels":{"app":"headless"}},
      "spec":{"selector":{"app":"headless"},"clusterIP":"None","type":"ClusterIP"},
      "status":{"loadBalancer":{}}})"));
}

// Fields kubectl's generators leave out: Go pointer fields keep their zero
// values (allocateLoadBalancerNodePorts: false), conditions use meta/v1's
// Condition, and an IntOrString target port may be a name.
TEST(ProtobufTest, ServiceOptionalFieldsAndStatus) {
  const std::string port = Len(1, "http") + Len(2, "TCP") + Len(6, "kubernetes.io/h2c") +
                           VarintField(3, 80) + Len(4, VarintField(1, 1) + Len(3, "web-port"));
  const std::string spec = Len(1, port) + Len(4, "LoadBalancer") + VarintField(20, 0) +
                           Len(14, Len(1, VarintField(1, 600))) + Len(7, "ClientIP") +
                           Len(19, "IPv4") + Len(17, "SingleStack");
  const std::string condition = Len(1, "Ready") + Len(2, "True") + VarintField(3, 2) +
                                Len(4, VarintField(1, 1795673820)) + Len(5, "Up");
  const std::string status = Len(1, Len(1, Len(1, "10.0.0.7") + Len(3, "VIP") +
                                               Len(4, VarintField(1, 80) + Len(2, "TCP")))) +
                             Len(2, condition);
  const json object =
      Decode(Envelope("v1", "Service", Len(1, Len(1, "lb")) + Len(2, spec) + Len(3, status)));
  EXPECT_EQ(object["spec"], json::parse(R"({
      "ports":[{"name":"http","protocol":"TCP","appProtocol":"kubernetes.io/h2c","port":80,
                "targetPort":"web-port"}],
      "type":"LoadBalancer","allocateLoadBalancerNodePorts":false,
      "sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":600}},
      "ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack"})"));
  EXPECT_EQ(object["status"], json::parse(R"({
      "loadBalancer":{"ingress":[{"ip":"10.0.0.7","ipMode":"VIP",
                                  "ports":[{"port":80,"protocol":"TCP"}]}]},
      "conditions":[{"type":"Ready","status":"True","observedGeneration":2,
                     "lastTransitionTime":"2026-11-26T06:17:00Z","reason":"Up"}]})"));
}

// The same `kubectl create deployment|job|cronjob` commands, captured from
// kubectl 1.32.4 (protobuf) and 1.31.9 (JSON, creationTimestamp nulls
// dropped): both encodings must give the same object.
// `kubectl create deployment ...` (1.32.4 protobuf; expected = the 1.31.9 JSON body).
const char* const kDeploymentHex =
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412c0010a230a0377656212001a0464656d6f"
    "22002a003200380042005a0a0a036170701203776562128a010802120c0a0a0a0361707012037765621a700a1c"
    "0a0012001a0022002a003200380042005a0a0a036170701203776562125012320a0762757379626f7812076275"
    "7379626f782a00320a0a001000185022002a0042006a007200800100880100900100a201001a00320042004a00"
    "52005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a0022"
    "00";
const char* const kDeploymentJson =
    R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"demo","labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"busybox","image":"busybox","ports":[{"containerPort":80}],"resources":{}}]}},"strategy":{}},"status":{}})";
// `kubectl create job ...` (1.32.4 protobuf; expected = the 1.31.9 JSON body).
const char* const kJobHex =
    "6b3873000a0f0a0862617463682f763112034a6f621286010a150a016a12001a0464656d6f22002a0032003800"
    "4200126332610a100a0012001a0022002a00320038004200124d122a0a016a120762757379626f781a04656368"
    "6f1a0268692a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068"
    "008201008a01009a0100c201001a082000280030003a001a002200";
const char* const kJobJson =
    R"({"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"j","namespace":"demo"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"j","image":"busybox","command":["echo","hi"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}})";
// `kubectl create cronjob ...` (1.32.4 protobuf; expected = the 1.31.9 JSON body).
const char* const kCronJobHex =
    "6b3873000a130a0862617463682f7631120743726f6e4a6f6212ac010a160a02636a12001a0464656d6f22002a"
    "00320038004200128f010a0b2a2f31202a202a202a202a1a002a7e0a120a02636a12001a0022002a0032003800"
    "4200126832660a100a0012001a0022002a003200380042001252122b0a02636a120762757379626f781a046563"
    "686f1a0268692a0042006a007200800100880100900100a201001a094f6e4661696c757265320042004a005200"
    "5800600068008201008a01009a0100c201001a001a002200";
const char* const kCronJobJson =
    R"({"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"cj","namespace":"demo"},"spec":{"schedule":"*/1 * * * *","jobTemplate":{"metadata":{"name":"cj"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"cj","image":"busybox","command":["echo","hi"],"resources":{}}],"restartPolicy":"OnFailure"}}}}},"status":{}})";

TEST(ProtobufTest, KubectlCreateWorkloadsMatchTheirJsonBodies) {
  const std::pair<const char*, const char*> cases[] = {
      {kDeploymentHex, kDeploymentJson}, {kJobHex, kJobJson}, {kCronJobHex, kCronJobJson}};
  for (const auto& [hex, want] : cases) {
    EXPECT_EQ(Decode(Unhex(hex)), json::parse(want)) << want;
  }
}

TEST(ProtobufTest, PodSpecDetails) {
  // Volume's source and a ConfigMap reference are inlined in JSON; quantities
  // and int-or-string ports come out as their JSON forms.
  const std::string container =
      Len(1, "app") + Len(2, "busybox") +
      Len(8, Len(1, Entry("cpu", Len(1, "500m"))) + Len(2, Entry("memory", Len(1, "1Gi")))) +
      Len(9, Len(1, "data") + VarintField(2, 1) + Len(3, "/data")) +
      Len(10, Len(1, Len(2, Len(1, "/healthz") + Len(2, VarintField(1, 1) + Len(3, "http")))) +
                  VarintField(2, 5)) +
      Len(19, Len(2, Len(1, Len(1, "settings"))));
  const std::string pod_spec = Len(1, Len(1, "data") + Len(2, Len(10, Len(1, "source-pvc")))) +
                               Len(1, Len(1, "cfg") + Len(2, Len(19, Len(1, Len(1, "settings"))))) +
                               Len(2, container) + Len(3, "Always") + VarintField(4, 0);
  const std::string deployment =
      Len(1, Len(1, "web")) + Len(2, VarintField(1, 0) + Len(3, Len(2, pod_spec)));
  EXPECT_EQ(Decode(Envelope("apps/v1", "Deployment", deployment)), json::parse(R"({
      "apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"replicas":0,"template":{"spec":{
        "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"source-pvc"}},
                   {"name":"cfg","configMap":{"name":"settings"}}],
        "containers":[{"name":"app","image":"busybox",
          "resources":{"limits":{"cpu":"500m"},"requests":{"memory":"1Gi"}},
          "volumeMounts":[{"name":"data","readOnly":true,"mountPath":"/data"}],
          "livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"initialDelaySeconds":5},
          "envFrom":[{"configMapRef":{"name":"settings"}}]}],
        "restartPolicy":"Always","terminationGracePeriodSeconds":0}}}})"));
}

void CollectUnresolved(const pb::MessageDesc& desc, std::set<std::string>& seen,
                       std::vector<std::string>& unresolved) {
  if (!seen.insert(desc.name).second) return;
  for (const pb::FieldDesc& f : desc.fields) {
    if (f.kind != pb::FieldKind::kMessage) continue;
    if (f.message == nullptr) {
      unresolved.push_back(desc.name + "." + f.name + " -> " + f.message_name);
    } else {
      CollectUnresolved(*f.message, seen, unresolved);
    }
  }
}

TEST(ProtobufTest, EveryMessageReferenceOfTheDecodedKindsResolves) {
  std::set<std::string> seen;
  std::vector<std::string> unresolved;
  for (const char* kind :
       {"Namespace", "Secret", "ConfigMap", "DeleteOptions", "Deployment", "StatefulSet",
        "DaemonSet", "Job", "CronJob", "Pod", "PersistentVolumeClaim", "Event"}) {
    const pb::MessageDesc* desc = pb::KindDesc(kind);
    ASSERT_NE(desc, nullptr) << kind;
    CollectUnresolved(*desc, seen, unresolved);
  }
  EXPECT_GT(seen.size(), 150u);
  EXPECT_EQ(unresolved, std::vector<std::string>{});
}

}  // namespace
}  // namespace stash::api
