#include "stash/api/table.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Expected values follow k8s.io/apimachinery/pkg/util/duration.HumanDuration:
// seconds below 2m, minutes(+seconds) below 10m, minutes below 3h,
// hours(+minutes) below 8h, hours below 48h, days(+hours) below 8d, days below
// 2y, years(+days) below 8y, then years.
TEST(HumanDurationTest, MatchesKubernetesRules) {
  const std::pair<Duration, const char*> cases[] = {
      {-seconds(5), "<invalid>"},
      {-seconds(2), "<invalid>"},
      {-milliseconds(1500), "0s"},
      {seconds(0), "0s"},
      {milliseconds(999), "0s"},
      {seconds(59), "59s"},
      {seconds(119), "119s"},
      {seconds(120), "2m"},
      {seconds(125), "2m5s"},
      {minutes(9) + seconds(59), "9m59s"},
      {minutes(10), "10m"},
      {minutes(10) + seconds(30), "10m"},
      {minutes(179), "179m"},
      {minutes(180), "3h"},
      {hours(3) + minutes(5), "3h5m"},
      {hours(7) + minutes(59), "7h59m"},
      {hours(8) + minutes(30), "8h"},
      {hours(47), "47h"},
      {hours(48), "2d"},
      {hours(51), "2d3h"},
      {hours(24 * 7 + 23), "7d23h"},
      {hours(24 * 8), "8d"},
      {hours(24 * 729), "729d"},
      {hours(24 * 730), "2y"},
      {hours(24 * (365 * 2 + 45)), "2y45d"},
      {hours(24 * (365 * 7 + 364)), "7y364d"},
      {hours(24 * 365 * 8), "8y"},
      {hours(24 * 365 * 20), "20y"},
  };
  for (const auto& [d, want] : cases) {
    EXPECT_EQ(HumanDuration(d), want) << std::chrono::duration_cast<seconds>(d).count() << "s";
  }
}

TEST(TimestampTest, ParsesAndFormatsKubernetesTimestamps) {
  Result<SystemTime> t = ParseTimestamp("2026-11-26T06:17:00Z");
  ASSERT_OK(t);
  EXPECT_EQ(std::chrono::duration_cast<seconds>(t->time_since_epoch()).count(), 1795673820);
  EXPECT_EQ(FormatTimestamp(*t), "2026-11-26T06:17:00Z");
  EXPECT_EQ(FormatMicroTimestamp(*t + milliseconds(250)), "2026-11-26T06:17:00.250000Z");
  EXPECT_EQ(*ParseTimestamp("2026-11-26T06:17:00.250000Z"), *t + milliseconds(250));
  EXPECT_EQ(*ParseTimestamp("2026-11-26T08:17:00+02:00"), *t);
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2024-02-29T00:00:00Z")), "2024-02-29T00:00:00Z");
  for (const char* bad : {"", "2026-11-26", "2026-11-26 06:17:00Z", "2026-13-01T00:00:00Z",
                          "2026-11-26T06:17:00", "2026-11-26T06:17:00Zjunk", "null"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  SystemTime now = *t + seconds(10);
  EXPECT_EQ(TranslateTimestampSince("2026-11-26T06:17:00Z", now), "10s");
  EXPECT_EQ(TranslateTimestampSince("", now), "<unknown>");
}

TEST(JsonPathTest, SimplePaths) {
  json o = json::parse(R"({"spec":{"task":{"name":"pvc-backup"},"paths":["/a","/b"]},
                           "metadata":{"labels":{"app.kubernetes.io/name":"x"}}})");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".spec.task.name"), "pvc-backup");
  EXPECT_EQ(*EvalSimpleJsonPath(o, "{.spec.paths[1]}"), "/b");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".metadata.labels['app.kubernetes.io/name']"), "x");
  EXPECT_FALSE(EvalSimpleJsonPath(o, ".spec.schedule").has_value());
  EXPECT_FALSE(EvalSimpleJsonPath(o, ".spec.paths[2]").has_value());
  EXPECT_FALSE(EvalSimpleJsonPath(o, ".spec.paths[?(@=='x')]").has_value());
  EXPECT_FALSE(EvalSimpleJsonPath(o, ".spec..paths").has_value());
}

TEST(JsonPathTest, WildcardsAndFiltersAsCrdColumnsUseThem) {
  json o = json::parse(R"({"status":{"conditions":[
      {"type":"BackupTargetFound","status":"True","observedGeneration":1},
      {"type":"Ready","status":"False","reason":"CronJobCreationFailed"}]}})");
  EXPECT_EQ(*EvalSimpleJsonPath(o, R"(.status.conditions[?(@.type=="Ready")].status)"), "False");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".status.conditions[?(@.type == 'Ready')].reason"),
            "CronJobCreationFailed");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".status.conditions[?(@.type!='Ready')].type"),
            "BackupTargetFound");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".status.conditions[?(@.observedGeneration==1)].type"),
            "BackupTargetFound");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".status.conditions[?(@.reason)].type"), "Ready");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".status.conditions[*].type"), "BackupTargetFound");
  EXPECT_EQ(*EvalSimpleJsonPath(o, ".status.conditions[*].reason"), "CronJobCreationFailed")
      << "the first element that has the rest of the path";
  EXPECT_FALSE(EvalSimpleJsonPath(o, R"(.status.conditions[?(@.type=="Gone")].status)"));
  EXPECT_FALSE(EvalSimpleJsonPath(o, ".status.conditions[?(type=='Ready')].status"));
  std::vector<PrinterColumn> cols = ColumnsForCrdVersion(
      json::parse(R"({"additionalPrinterColumns":[{"name":"Ready","type":"string",
                      "jsonPath":".status.conditions[?(@.type=='Ready')].status"}]})"));
  EXPECT_EQ(BuildTable(cols, {o}, SystemTime{}, false)["rows"][0]["cells"][1], "False");
}

const json kBackupConfigurationCrdVersion = json::parse(R"({
  "name":"v1beta1",
  "additionalPrinterColumns":[
    {"name":"Task","type":"string","jsonPath":".spec.task.name"},
    {"name":"Schedule","type":"string","jsonPath":".spec.schedule"},
    {"name":"Paused","type":"boolean","jsonPath":".spec.paused"},
    {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}]})");

TEST(TableTest, CrdColumnsAsTheGuidePrintsThem) {
  SystemTime created = *ParseTimestamp("2026-11-26T06:00:00Z");
  json bc = json::parse(R"({"apiVersion":"stash.appscode.com/v1beta1","kind":"BackupConfiguration",
      "metadata":{"name":"pause-backup","namespace":"demo","uid":"u1","resourceVersion":"7",
                  "creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"schedule":"*/1 * * * *","paused":true}})");
  json table = BuildTable(ColumnsForCrdVersion(kBackupConfigurationCrdVersion), {bc},
                          created + minutes(3) + seconds(5), true);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  std::vector<std::string> names;
  for (const json& c : table["columnDefinitions"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Task", "Schedule", "Paused", "Age"}));
  EXPECT_EQ(table["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(table["columnDefinitions"][3]["type"], "boolean");
  ASSERT_EQ(table["rows"].size(), 1u);
  EXPECT_EQ(table["rows"][0]["cells"],
            json::parse(R"(["pause-backup",null,"*/1 * * * *",true,"3m5s"])"));
  const json& object = table["rows"][0]["object"];
  EXPECT_EQ(object["kind"], "PartialObjectMetadata");
  EXPECT_EQ(object["metadata"]["namespace"], "demo");
  EXPECT_FALSE(object.contains("spec"));
  json bare = BuildTable(ColumnsForCrdVersion(kBackupConfigurationCrdVersion), {bc}, created,
                         IncludeObject::kNone);
  EXPECT_FALSE(bare["rows"][0].contains("object"));
}

TEST(TableTest, CellsAreTypeCorrect) {
  std::vector<PrinterColumn> cols =
      ColumnsForCrdVersion(json::parse(R"({"additionalPrinterColumns":[
      {"name":"Integrity","type":"boolean","jsonPath":".status.integrity"},
      {"name":"Size","type":"string","jsonPath":".status.totalSize"},
      {"name":"Snapshot-Count","type":"integer","jsonPath":".status.snapshotCount"},
      {"name":"Last-Successful-Backup","type":"date","format":"date-time",
       "jsonPath":".status.lastBackupTime"},
      {"name":"Obj","type":"string","jsonPath":".status.ref"}]})"));
  SystemTime now = *ParseTimestamp("2026-11-26T12:00:00Z");
  json repo = json::parse(R"({"metadata":{"name":"gcs-repo"},"status":{"integrity":"yes",
      "totalSize":"2.567 KiB","snapshotCount":3.0,"lastBackupTime":"2026-11-24T09:00:00Z",
      "ref":{"a":1}}})");
  json cells = BuildTable(cols, {repo}, now, false)["rows"][0]["cells"];
  EXPECT_EQ(cells, json::parse(R"(["gcs-repo",null,"2.567 KiB",3,"2d3h","{\"a\":1}"])"));
  json bad_date = json::parse(R"({"metadata":{"name":"r"},"status":{"lastBackupTime":"soon"}})");
  EXPECT_EQ(BuildTable(cols, {bad_date}, now, false)["rows"][0]["cells"][4], "<invalid>");
}

TEST(TableTest, CrdWithoutPrinterColumnsGetsAge) {
  std::vector<PrinterColumn> cols = ColumnsForCrdVersion(json::parse(R"({"name":"v1"})"));
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0].name, "Age");
  EXPECT_EQ(cols[0].type, "date");
}

json Row(std::string_view resource, const char* object, SystemTime now) {
  auto cols = BuiltinColumns(resource);
  EXPECT_TRUE(cols.has_value()) << resource;
  if (!cols) return json();
  json table = BuildTable(*cols, {json::parse(object)}, now, true);
  return table["rows"][0]["cells"];
}

std::vector<std::string> Header(std::string_view resource, bool wide = false) {
  std::vector<std::string> out;
  std::optional<std::vector<PrinterColumn>> cols = BuiltinColumns(resource);
  if (!cols) return out;
  for (const PrinterColumn& c : *cols) {
    if (wide || c.priority == 0) out.push_back(c.name);
  }
  return out;
}

TEST(BuiltinColumnsTest, HeadersAsKubectlPrintsThem) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Header("deployments"), (V{"Name", "Ready", "Up-to-date", "Available", "Age"}));
  EXPECT_EQ(Header("pods"), (V{"Name", "Ready", "Status", "Restarts", "Age"}));
  EXPECT_EQ(Header("secrets"), (V{"Name", "Type", "Data", "Age"}));
  EXPECT_EQ(Header("persistentvolumeclaims"),
            (V{"Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
               "VolumeAttributesClass", "Age"}));
  EXPECT_EQ(Header("cronjobs"),
            (V{"Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"}));
  EXPECT_EQ(Header("events"), (V{"Last Seen", "Type", "Reason", "Object", "Message"}));
  EXPECT_EQ(Header("namespaces"), (V{"Name", "Status", "Age"}));
  EXPECT_EQ(Header("jobs"), (V{"Name", "Status", "Completions", "Duration", "Age"}));
  EXPECT_EQ(Header("customresourcedefinitions"), (V{"Name", "Created At"}));
  EXPECT_FALSE(BuiltinColumns("backupconfigurations").has_value());
}

// kubectl get ep / apiservice as on a cluster (printEndpoints, the
// aggregator's APIService printer).
TEST(BuiltinColumnsTest, EndpointsAndApiServices) {
  using V = std::vector<std::string>;
  SystemTime now = *ParseTimestamp("2026-11-26T06:10:00Z");
  EXPECT_EQ(Header("endpoints"), (V{"Name", "Endpoints", "Age"}));
  EXPECT_EQ(Header("apiservices"), (V{"Name", "Service", "Available", "Age"}));
  EXPECT_EQ(Row("endpoints", R"({"metadata":{"name":"svc"},"subsets":[
      {"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"notReadyAddresses":[{"ip":"10.0.0.9"}],
       "ports":[{"name":"a","port":80},{"name":"b","port":8444}]}]})",
                now)[1],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:8444 + 1 more...");
  EXPECT_EQ(Row("endpoints", R"({"metadata":{"name":"svc"}})", now)[1], "<none>");
  EXPECT_EQ(Row("endpoints", R"({"metadata":{"name":"svc"},"subsets":[
      {"addresses":[{"ip":"fd00::1"}],"ports":[{"port":443}]}]})",
                now)[1],
            "[fd00::1]:443");
  auto api = [&](const std::string& rest) {
    return Row(
        "apiservices",
        (R"({"metadata":{"name":"v1.g","creationTimestamp":"2026-11-26T06:00:00Z"},)" + rest + "}")
            .c_str(),
        now);
  };
  EXPECT_EQ(api(R"("spec":{})"), json::parse(R"(["v1.g","Local","Unknown","10m"])"));
  EXPECT_EQ(api(R"("spec":{"service":{"namespace":"stash","name":"op"}},
      "status":{"conditions":[{"type":"Available","status":"False","reason":"MissingEndpoints"}]})"),
            json::parse(R"j(["v1.g","stash/op","False (MissingEndpoints)","10m"])j"));
  EXPECT_EQ(api(R"("spec":{"service":{"namespace":"stash","name":"op"}},
      "status":{"conditions":[{"type":"Available","status":"True","reason":"Passed"}]})")[2],
            "True");
}

TEST(BuiltinColumnsTest, Services) {
  using V = std::vector<std::string>;
  SystemTime now = *ParseTimestamp("2026-11-26T06:10:00Z");
  EXPECT_EQ(Header("services"), (V{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"}));
  EXPECT_EQ(Header("services", true).back(), "Selector");
  EXPECT_EQ(
      Row("services", R"({"metadata":{"name":"op","creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"selector":{"b":"2","a":"1"},"clusterIP":"10.96.0.7",
              "ports":[{"port":443,"targetPort":8443},{"port":53,"protocol":"UDP","nodePort":30053}]}})",
          now),
      json::parse(
          R"(["op","ClusterIP","10.96.0.7","<none>","443/TCP,53:30053/UDP","10m","a=1,b=2"])"));
  EXPECT_EQ(Row("services", R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer"}})", now)[3],
            "<pending>");
  EXPECT_EQ(Row("services", R"({"metadata":{"name":"x"},
      "spec":{"type":"ExternalName","externalName":"db.example.com"}})",
                now)[3],
            "db.example.com");
  EXPECT_EQ(Row("services", R"({"metadata":{"name":"bare"}})", now)[2], "<none>");
}

TEST(BuiltinColumnsTest, WebhookConfigurations) {
  using V = std::vector<std::string>;
  for (const char* r : {"validatingwebhookconfigurations", "mutatingwebhookconfigurations"}) {
    EXPECT_EQ(Header(r), (V{"Name", "Webhooks", "Age"}));
  }
  EXPECT_EQ(Row("validatingwebhookconfigurations",
                R"({"metadata":{"name":"a","creationTimestamp":"2026-11-26T06:00:00Z"},
                    "webhooks":[{"name":"x"},{"name":"y"}]})",
                *ParseTimestamp("2026-11-26T06:10:00Z")),
            json::parse(R"(["a",2,"10m"])"));
}

TEST(BuiltinColumnsTest, WorkloadAndPodCells) {
  SystemTime now = *ParseTimestamp("2026-11-26T06:10:00Z");
  EXPECT_EQ(Row("deployments", R"({"metadata":{"name":"stash-demo",
      "creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"replicas":3,"selector":{"matchLabels":{"app":"stash-demo"}},
              "template":{"spec":{"containers":[{"name":"busybox","image":"busybox"},
                                                {"name":"stash","image":"stash:v1"}]}}},
      "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})",
                now),
            json::parse(R"(["stash-demo","2/3",3,2,"10m","busybox,stash","busybox,stash:v1",
                            "app=stash-demo"])"));
  EXPECT_EQ(Row("pods", R"({"metadata":{"name":"p","creationTimestamp":"2026-11-26T06:09:00Z"},
      "spec":{"containers":[{"name":"a"},{"name":"b"}],"nodeName":"node-1"},
      "status":{"phase":"Running","podIP":"10.0.0.5","containerStatuses":[
        {"name":"a","ready":true,"restartCount":2,"state":{"running":{}},
         "lastState":{"terminated":{"finishedAt":"2026-11-26T06:07:00Z"}}},
        {"name":"b","ready":false,"restartCount":0,
         "state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})",
                now),
            json::parse(R"j(["p","1/2","CrashLoopBackOff","2 (3m ago)","60s","10.0.0.5","node-1",
                             "<none>","<none>"])j"));
  EXPECT_EQ(Row("pods", R"({"metadata":{"name":"q","deletionTimestamp":"2026-11-26T06:09:00Z"},
      "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running"}})",
                now)[2],
            "Terminating");
}

// kubectl's STATUS and RESTARTS while init containers run (printPod).
TEST(BuiltinColumnsTest, PodsInitialising) {
  SystemTime now = *ParseTimestamp("2026-11-26T06:10:00Z");
  const std::string spec = R"("spec":{"initContainers":[{"name":"stash-init"},{"name":"other"}],
      "containers":[{"name":"app"}]})";
  auto pod = [&](const std::string& init_statuses, bool initialized) {
    return R"({"metadata":{"name":"p","creationTimestamp":"2026-11-26T06:09:00Z"},)" + spec +
           R"(,"status":{"phase":"Pending","conditions":[{"type":"Initialized","status":")" +
           (initialized ? "True" : "False") + R"("}],"initContainerStatuses":[)" + init_statuses +
           R"(],"containerStatuses":[{"name":"app","ready":false,"restartCount":0,
             "state":{"waiting":{"reason":"PodInitializing"}}}]}})";
  };
  const std::string running = R"({"name":"stash-init","restartCount":0,"state":{"running":{}}},
      {"name":"other","restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}})";
  EXPECT_EQ(Row("pods", pod(running, false).c_str(), now)[2], "Init:0/2");
  const std::string failed = R"({"name":"stash-init","restartCount":3,
      "state":{"terminated":{"exitCode":1,"reason":"Error"}},
      "lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-11-26T06:08:00Z"}}},
      {"name":"other","restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}})";
  auto row = Row("pods", pod(failed, false).c_str(), now);
  EXPECT_EQ(row[2], "Init:Error");
  EXPECT_EQ(row[3], "3 (2m ago)");
  const std::string backoff = R"({"name":"stash-init","restartCount":3,
      "state":{"waiting":{"reason":"CrashLoopBackOff"}}},
      {"name":"other","restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}})";
  EXPECT_EQ(Row("pods", pod(backoff, false).c_str(), now)[2], "Init:CrashLoopBackOff");
  const std::string second = R"({"name":"stash-init","restartCount":0,
      "state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"other","restartCount":0,"state":{"terminated":{"exitCode":2}}})";
  EXPECT_EQ(Row("pods", pod(second, false).c_str(), now)[2], "Init:ExitCode:2");
  const std::string done = R"({"name":"stash-init","restartCount":1,
      "state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"other","restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}})";
  row = Row("pods", pod(done, true).c_str(), now);
  EXPECT_EQ(row[2], "PodInitializing");
  EXPECT_EQ(row[3], "0");
}

TEST(BuiltinColumnsTest, EventsSecretsCronJobsPvcs) {
  SystemTime now = *ParseTimestamp("2026-11-26T06:20:04Z");
  EXPECT_EQ(Row("events", R"({"metadata":{"name":"pause-backup.1800a1"},
      "involvedObject":{"kind":"BackupConfiguration","name":"pause-backup"},
      "type":"Warning","reason":"Paused","message":" Backup paused\n",
      "source":{"component":"stash-operator"},
      "firstTimestamp":"2026-11-26T06:17:00Z","lastTimestamp":"2026-11-26T06:19:30Z","count":4})",
                now),
            json::parse(R"(["34s","Warning","Paused","backupconfiguration/pause-backup","",
                            "stash-operator","Backup paused","3m4s",4,"pause-backup.1800a1"])"));
  EXPECT_EQ(Row("secrets", R"({"metadata":{"name":"gcs-secret",
      "creationTimestamp":"2026-11-26T06:20:00Z"},"type":"Opaque",
      "data":{"RESTIC_PASSWORD":"Y2hhbmdlaXQ="}})",
                now),
            json::parse(R"(["gcs-secret","Opaque",1,"4s"])"));
  EXPECT_EQ(Row("cronjobs", R"({"metadata":{"name":"stash-trigger-pause-backup",
      "creationTimestamp":"2026-11-26T06:00:00Z"},
      "spec":{"schedule":"*/5 * * * *","suspend":true,"jobTemplate":{"spec":{"template":{"spec":{
        "containers":[{"name":"trigger","image":"stash"}]}}}}},
      "status":{"lastScheduleTime":"2026-11-26T06:15:00Z","active":[{"name":"j"}]}})",
                now),
            json::parse(R"(["stash-trigger-pause-backup","*/5 * * * *","<none>","True",1,
                            "5m4s","20m","trigger","stash","<none>"])"));
  EXPECT_EQ(
      Row("persistentvolumeclaims", R"({"metadata":{"name":"source-pvc",
      "creationTimestamp":"2026-11-26T06:20:00Z"},
      "spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"standard",
              "resources":{"requests":{"storage":"1Gi"}}}})",
          now),
      json::parse(R"(["source-pvc","Pending","","","","standard","<unset>","4s","<unset>"])"));
  EXPECT_EQ(Row("persistentvolumeclaims", R"({"metadata":{"name":"b"},
      "spec":{"volumeName":"pv-1","volumeMode":"Filesystem"},
      "status":{"phase":"Bound","capacity":{"storage":"1Gi"},
                "accessModes":["ReadWriteMany","ReadWriteOnce"]}})",
                now),
            json::parse(R"(["b","Bound","pv-1","1Gi","RWO,RWX","","<unset>","<unknown>",
                            "Filesystem"])"));
}

TEST(BuiltinColumnsTest, JobStatusCompletionsAndDuration) {
  SystemTime now = *ParseTimestamp("2026-11-26T06:10:00Z");
  EXPECT_EQ(Row("jobs", R"({"metadata":{"name":"j"},"spec":{"completions":1},
      "status":{"succeeded":1,"startTime":"2026-11-26T06:00:00Z",
                "completionTime":"2026-11-26T06:00:42Z",
                "conditions":[{"type":"Complete","status":"True"}]}})",
                now),
            json::parse(R"(["j","Complete","1/1","42s","<unknown>","","","<none>"])"));
  EXPECT_EQ(Row("jobs", R"({"metadata":{"name":"j"},"spec":{"parallelism":3},
      "status":{"startTime":"2026-11-26T06:07:00Z"}})",
                now),
            json::parse(R"(["j","Running","0/1 of 3","3m","<unknown>","","","<none>"])"));
}

}  // namespace
}  // namespace stash::api
