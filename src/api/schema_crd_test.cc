// The CRDs of deploy/crds against the guide's manifests: the files a real
// cluster installs must accept exactly what the guide applies, and reject the
// guide's typical mistakes with the right field paths.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "stash/api/schema.h"
#include "stash/api/table.h"

namespace stash::api {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// YAML 1.1 plain scalars as Kubernetes' sigs.k8s.io/yaml reads them (enough
// for manifests: ints, floats, booleans, null; quoted scalars stay strings).
json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() != "?") return s;
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      json number = json::parse(s, nullptr, false);
      if (!number.is_discarded() && number.is_number()) return number;
      return s;
    }
    default:
      return nullptr;
  }
}

fs::path CrdDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "deploy" / "crds";
}

std::map<std::string, json> LoadCrds() {
  std::map<std::string, json> by_kind;
  for (const auto& entry : fs::directory_iterator(CrdDir())) {
    if (entry.path().extension() != ".yaml") continue;
    json crd = ToJson(YAML::LoadFile(entry.path().string()));
    by_kind[crd["spec"]["names"]["kind"].get<std::string>()] = crd;
  }
  return by_kind;
}

const json& Version(const json& crd) { return crd["spec"]["versions"][0]; }
const json& Schema(const json& crd) { return Version(crd)["schema"]["openAPIV3Schema"]; }

// The guide's manifests (shared/seed/examples), verbatim.
const char* const kRepository = R"(apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata:
  name: gcs-repo
  namespace: demo
spec:
  backend:
    gcs:
      bucket: appscode-qa
      prefix: /sample/data
    storageSecretName: gcs-secret
)";

const char* const kBackupConfiguration = R"(apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata:
  name: pause-backup
  namespace: demo
spec:
  repository:
    name: gcs-repo
  schedule: "*/5 * * * *"
  target:
    ref:
      apiVersion: apps/v1
      kind: Deployment
      name: stash-demo
    volumeMounts:
    - name: source-data
      mountPath: /source/data
    paths:
    - /source/data
  retentionPolicy:
    name: 'keep-last-5'
    keepLast: 5
    prune: true
)";

const char* const kBackupSession = R"(apiVersion: stash.appscode.com/v1beta1
kind: BackupSession
metadata:
  labels:
    stash.appscode.com/backup-configuration: pause-backup
  name: instant-backupsession
  namespace: demo
spec:
  invoker:
    apiGroup: stash.appscode.com
    kind: BackupConfiguration
    name: pause-backup
)";

class CrdTest : public ::testing::Test {
 protected:
  void SetUp() override { crds_ = LoadCrds(); }
  std::vector<FieldError> ValidateYaml(const std::string& yaml) {
    json object = ToJson(YAML::Load(yaml));
    const std::string kind = object["kind"];
    EXPECT_TRUE(crds_.count(kind)) << "no CRD for " << kind;
    return Validate(Schema(crds_[kind]), object, /*strict=*/true);
  }
  std::map<std::string, json> crds_;
};

TEST_F(CrdTest, TheFourCrdsAreWellFormed) {
  ASSERT_EQ(crds_.size(), 4u);
  const std::map<std::string, std::pair<std::string, std::string>> want = {
      {"Repository", {"repositories", "v1alpha1"}},
      {"BackupConfiguration", {"backupconfigurations", "v1beta1"}},
      {"BackupSession", {"backupsessions", "v1beta1"}},
      {"RestoreSession", {"restoresessions", "v1beta1"}}};
  for (const auto& [kind, plural_version] : want) {
    const json& crd = crds_[kind];
    EXPECT_EQ(crd["apiVersion"], "apiextensions.k8s.io/v1");
    EXPECT_EQ(crd["metadata"]["name"], plural_version.first + ".stash.appscode.com");
    EXPECT_EQ(crd["spec"]["group"], "stash.appscode.com");
    EXPECT_EQ(crd["spec"]["scope"], "Namespaced");
    EXPECT_EQ(Version(crd)["name"], plural_version.second) << kind;
    EXPECT_TRUE(Version(crd)["served"].get<bool>() && Version(crd)["storage"].get<bool>());
    EXPECT_TRUE(Version(crd)["subresources"].contains("status")) << kind;
    EXPECT_EQ(Schema(crd)["type"], "object");
  }
  EXPECT_EQ(crds_["BackupConfiguration"]["spec"]["names"]["shortNames"], json::parse(R"(["bc"])"));
  EXPECT_EQ(crds_["Repository"]["spec"]["names"]["shortNames"], json::parse(R"(["repo"])"));
  EXPECT_EQ(crds_["RestoreSession"]["spec"]["names"]["shortNames"], json::parse(R"(["restore"])"));
  EXPECT_EQ(crds_["Repository"]["spec"]["names"]["categories"],
            json::parse(R"(["stash","appscode"])"));
  EXPECT_EQ(crds_["BackupSession"]["spec"]["names"]["categories"],
            json::parse(R"(["stash","appscode","all"])"));
}

std::vector<std::string> DefaultHeader(const json& crd) {
  std::vector<std::string> out;
  json table = BuildTable(ColumnsForCrdVersion(Version(crd)), {}, SystemTime{}, false);
  for (const json& c : table["columnDefinitions"]) {
    if (c["priority"] == 0) out.push_back(c["name"]);
  }
  return out;
}

TEST_F(CrdTest, PrinterColumnsAsTheGuideShowsThem) {
  using V = std::vector<std::string>;
  EXPECT_EQ(DefaultHeader(crds_["BackupConfiguration"]),
            (V{"Name", "Task", "Schedule", "Paused", "Age"}));
  EXPECT_EQ(DefaultHeader(crds_["BackupSession"]),
            (V{"Name", "Invoker-Type", "Invoker-Name", "Phase", "Age"}));
  EXPECT_EQ(DefaultHeader(crds_["Repository"]),
            (V{"Name", "Integrity", "Size", "Snapshot-Count", "Last-Successful-Backup", "Age"}));
  EXPECT_EQ(DefaultHeader(crds_["RestoreSession"]),
            (V{"Name", "Repository", "Phase", "Duration", "Age"}));
  json bc = ToJson(YAML::Load(kBackupConfiguration));
  bc["metadata"]["creationTimestamp"] = "2026-11-26T06:00:00Z";
  json row = BuildTable(ColumnsForCrdVersion(Version(crds_["BackupConfiguration"])), {bc},
                        *ParseTimestamp("2026-11-26T06:00:10Z"), false)["rows"][0]["cells"];
  EXPECT_EQ(row, json::parse(R"(["pause-backup",null,"*/5 * * * *",null,null,"10s"])"));
}

TEST_F(CrdTest, GuideManifestsValidateWithoutErrors) {
  for (const char* manifest : {kRepository, kBackupConfiguration, kBackupSession}) {
    std::vector<FieldError> errors = ValidateYaml(manifest);
    for (const FieldError& e : errors) ADD_FAILURE() << e.message << "\nin:\n" << manifest;
  }
}

// The embedded copies above must not drift from the seed files when those are
// around (they are outside the repository, so CI may not have them).
TEST_F(CrdTest, SeedFilesMatchTheEmbeddedCopies) {
  const fs::path dir = "/work/shared/seed/examples";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " not present";
  const std::map<std::string, const char*> files = {
      {"repository.yaml", kRepository},
      {"backupconfiguration.yaml", kBackupConfiguration},
      {"backupsession.yaml", kBackupSession}};
  for (const auto& [name, embedded] : files) {
    EXPECT_EQ(ToJson(YAML::LoadFile((dir / name).string())), ToJson(YAML::Load(embedded))) << name;
  }
}

// Returns `text` with the first `from` replaced by `to`.
std::string Replace(std::string text, std::string_view from, std::string_view to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos
             ? text
             : text.substr(0, at) + std::string(to) + text.substr(at + from.size());
}

TEST_F(CrdTest, GuideMistakesFailWithTheRightFieldPaths) {
  std::string bad_schedule = Replace(kBackupConfiguration, "\"*/5 * * * *\"", "5");
  std::vector<FieldError> errors = ValidateYaml(bad_schedule);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(
      errors[0].message,
      R"(spec.schedule: Invalid value: "integer": spec.schedule in body must be of type string: "integer")");

  std::string no_name = Replace(kBackupConfiguration, "    name: 'keep-last-5'\n", "");
  errors = ValidateYaml(no_name);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.retentionPolicy.name");
  EXPECT_EQ(errors[0].message, "spec.retentionPolicy.name: Required value");

  std::string unknown = kBackupConfiguration;
  unknown += "  pasued: true\n";
  errors = ValidateYaml(unknown);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, R"(unknown field "spec.pasued")");

  std::string paused_text = kBackupConfiguration;
  paused_text += "  paused: \"yes\"\n  driver: Borg\n";
  errors = ValidateYaml(paused_text);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(
      errors[0].message,
      R"(spec.driver: Unsupported value: "Borg": supported values: "Restic", "VolumeSnapshotter")");
  EXPECT_EQ(errors[1].field, "spec.paused");

  errors = ValidateYaml(R"(apiVersion: stash.appscode.com/v1beta1
kind: BackupSession
metadata: {name: s, namespace: demo}
spec: {invoker: {apiGroup: stash.appscode.com, kind: BackupConfiguration}}
status: {phase: Done}
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message, "spec.invoker.name: Required value");
  EXPECT_EQ(errors[1].field, "status.phase");
}

TEST_F(CrdTest, StatusWrittenByTheOperatorValidates) {
  json session = ToJson(YAML::Load(kBackupSession));
  session["status"] = json::parse(R"({"phase":"Succeeded","sessionDuration":"1m5s",
      "conditions":[{"type":"MetricsPushed","status":"True","reason":"SuccessfullyPushedMetrics",
                     "message":"Successfully pushed metrics.",
                     "lastTransitionTime":"2026-11-26T06:17:00Z"}],
      "targets":[{"ref":{"apiVersion":"apps/v1","kind":"Deployment","name":"stash-demo"},
                  "totalHosts":1,"phase":"Succeeded",
                  "stats":[{"hostname":"host-0","phase":"Succeeded","duration":"5s",
                            "snapshots":[{"name":"1a2b3c4d","path":"/source/data",
                                          "totalSize":"2.567 KiB","uploaded":"1.1 KiB",
                                          "processingTime":"0:01",
                                          "fileStats":{"totalFiles":3,"newFiles":3,
                                                       "modifiedFiles":0,
                                                       "unmodifiedFiles":0}}]}]}]})");
  EXPECT_TRUE(Validate(Schema(crds_["BackupSession"]), session, true).empty());
  json repo = ToJson(YAML::Load(kRepository));
  repo["status"] = json::parse(R"({"integrity":true,"totalSize":"2.567 KiB","snapshotCount":1,
      "lastBackupTime":"2026-11-26T06:17:00Z","firstBackupTime":"2026-11-26T06:17:00Z",
      "snapshotsRemovedOnLastCleanup":0,"observedGeneration":1})");
  EXPECT_TRUE(Validate(Schema(crds_["Repository"]), repo, true).empty());
}

}  // namespace
}  // namespace stash::api
