#include "stash/api/patch.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

json Merge(const char* target, const char* patch) {
  Result<json> r = ApplyMergePatch(json::parse(target), json::parse(patch));
  EXPECT_OK(r);
  return r.ok() ? *r : json();
}

// RFC 7386, Appendix A: every example.
TEST(MergePatchTest, Rfc7386AppendixA) {
  struct Case {
    const char* target;
    const char* patch;
    const char* result;
  };
  const Case cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Merge(c.target, c.patch), json::parse(c.result)) << c.target << " + " << c.patch;
  }
}

TEST(MergePatchTest, KubectlPausePatchKeepsTheRestOfTheSpec) {
  json bc = json::parse(R"({"spec":{"schedule":"*/5 * * * *","paused":false,
                                   "retentionPolicy":{"name":"keep-last-5","keepLast":5}}})");
  json out = *ApplyMergePatch(bc, json::parse(R"({"spec":{"paused":true}})"));
  EXPECT_EQ(out["spec"]["paused"], true);
  EXPECT_EQ(out["spec"]["schedule"], "*/5 * * * *");
  EXPECT_EQ(out["spec"]["retentionPolicy"]["keepLast"], 5);
}

Result<json> JsonPatch(const char* target, const char* ops) {
  return ApplyJsonPatch(json::parse(target), json::parse(ops));
}

// RFC 6902, Appendix A (A.13 is about duplicate members, which a JSON parser
// already resolves).
TEST(JsonPatchTest, Rfc6902AppendixASuccessCases) {
  struct Case {
    const char* name;
    const char* target;
    const char* ops;
    const char* result;
  };
  const Case cases[] = {
      {"A.1", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
       R"({"baz":"qux","foo":"bar"})"},
      {"A.2", R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])",
       R"({"foo":["bar","qux","baz"]})"},
      {"A.3", R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])",
       R"({"foo":"bar"})"},
      {"A.4", R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])",
       R"({"foo":["bar","baz"]})"},
      {"A.5", R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])",
       R"({"baz":"boo","foo":"bar"})"},
      {"A.6", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
       R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
      {"A.7", R"({"foo":["all","grass","cows","eat"]})",
       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
       R"({"foo":["all","cows","eat","grass"]})"},
      {"A.8", R"({"baz":"qux","foo":["a",2,"c"]})",
       R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
       R"({"baz":"qux","foo":["a",2,"c"]})"},
      {"A.10", R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
       R"({"foo":"bar","child":{"grandchild":{}}})"},
      {"A.11", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
       R"({"foo":"bar","baz":"qux"})"},
      {"A.14", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
       R"({"/":9,"~1":10})"},
      {"A.16", R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
       R"({"foo":["bar",["abc","def"]]})"},
      {"copy", R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])",
       R"({"a":{"b":1},"c":{"b":1}})"},
      {"root", R"({"a":1})", R"([{"op":"replace","path":"","value":[1]}])", R"([1])"},
  };
  for (const Case& c : cases) {
    Result<json> r = JsonPatch(c.target, c.ops);
    ASSERT_OK(r) << c.name << ": " << r.status();
    EXPECT_EQ(*r, json::parse(c.result)) << c.name;
  }
}

TEST(JsonPatchTest, Rfc6902AppendixAFailures) {
  // A.9: a failed test fails the whole patch (the apiserver answers 422).
  Result<json> a9 = JsonPatch(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])");
  ASSERT_FALSE(a9.ok());
  EXPECT_EQ(a9.status().code(), Code::kInvalid);
  EXPECT_NE(a9.status().message().find("test failed"), std::string::npos) << a9.status();
  EXPECT_NE(a9.status().message().find("/baz"), std::string::npos) << a9.status();
  // A.12: adding below a member that does not exist.
  Result<json> a12 = JsonPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":1}])");
  ASSERT_FALSE(a12.ok());
  EXPECT_EQ(a12.status().code(), Code::kInvalid);
  EXPECT_NE(a12.status().message().find("\"baz\""), std::string::npos) << a12.status();
  // A.15: "10" is not 10.
  EXPECT_EQ(JsonPatch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])")
                .status()
                .code(),
            Code::kInvalid);
}

TEST(JsonPatchTest, MalformedOperationsAreInvalid) {
  const char* bad[] = {
      R"([{"op":"add","path":"/a"}])",                  // no value
      R"({"op":"add","path":"/a","value":1})",          // not an array
      R"([{"op":"frobnicate","path":"/a"}])",           // unknown op
      R"([{"op":"add","path":"a","value":1}])",         // path without '/'
      R"([{"op":"remove","path":"/missing"}])",         // nothing to remove
      R"([{"op":"add","path":"/l/01","value":1}])",     // leading zero index
      R"([{"op":"add","path":"/l/5","value":1}])",      // index past the end
      R"([{"op":"replace","path":"/l/-","value":1}])",  // "-" only for add
      R"([{"op":"move","from":"/m","path":"/m/x"}])",   // into its own child
      R"([{"op":"add","path":"/a~2b","value":1}])",     // bad escape
      R"([{"op":"remove","path":""}])",                 // the whole document
  };
  const json target = json::parse(R"({"l":[0,1],"m":{}})");
  for (const char* ops : bad) {
    Result<json> r = ApplyJsonPatch(target, json::parse(ops));
    EXPECT_FALSE(r.ok()) << ops;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalid) << ops << ": " << r.status();
    }
  }
}

TEST(JsonPatchTest, FailureInALaterOperationLeavesNoPartialResult) {
  Result<json> r = JsonPatch(R"({"a":1})", R"([{"op":"replace","path":"/a","value":2},
                                               {"op":"test","path":"/a","value":3}])");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("operation 1"), std::string::npos) << r.status();
}

TEST(ParsePatchBodyTest, RejectsWhatTheApiserverRejects) {
  EXPECT_OK(ParsePatchBody(R"({"a":1})", "application/merge-patch+json"));
  EXPECT_OK(ParsePatchBody(R"([])", "application/json-patch+json"));
  EXPECT_EQ(ParsePatchBody("{nope", "application/merge-patch+json").status().code(),
            Code::kInvalid);
  EXPECT_FALSE(ParsePatchBody(R"({"a":1})", "application/json-patch+json").ok());
  EXPECT_FALSE(ParsePatchBody(R"([1])", "application/merge-patch+json").ok());
}

json Smp(const json& target, const char* patch, const char* kind = "Deployment") {
  Result<json> r = ApplyStrategicMergePatch(target, json::parse(patch), kind);
  EXPECT_OK(r);
  return r.ok() ? *r : json();
}

const json kDeployment = json::parse(R"({
  "metadata":{"name":"d","finalizers":["a"]},
  "spec":{"replicas":3,"template":{"spec":{
    "containers":[
      {"name":"app","image":"busybox:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
       "ports":[{"containerPort":80,"name":"http"}],
       "volumeMounts":[{"name":"data","mountPath":"/data"}]},
      {"name":"sidecar","image":"stash:1","args":["run"]}],
    "volumes":[{"name":"data","emptyDir":{}}]}}}})");

TEST(StrategicMergePatchTest, ContainersMergeByName) {
  json out =
      Smp(kDeployment,
          R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:2"}]}}}})");
  const json& containers = out["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "busybox:2");
  EXPECT_EQ(containers[0]["env"].size(), 2u) << "the rest of the container is kept";
  EXPECT_EQ(containers[1]["name"], "sidecar");
  // With a merge patch the same body would have dropped the sidecar.
  json merged = *ApplyMergePatch(
      kDeployment,
      json::parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"x"}]}}}})"));
  EXPECT_EQ(merged["spec"]["template"]["spec"]["containers"].size(), 1u);
}

TEST(StrategicMergePatchTest, PatchDeleteRemovesOneElement) {
  json out = Smp(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"sidecar","$patch":"delete"}],
      "volumes":[{"name":"data","$patch":"delete"}]}}}})");
  const json& spec = out["spec"]["template"]["spec"];
  ASSERT_EQ(spec["containers"].size(), 1u);
  EXPECT_EQ(spec["containers"][0]["name"], "app");
  EXPECT_TRUE(spec["volumes"].empty());
}

TEST(StrategicMergePatchTest, NestedListsUseTheirOwnKeys) {
  json out = Smp(kDeployment, R"({"spec":{"template":{"spec":{"containers":[{"name":"app",
      "env":[{"name":"B","value":"20"},{"name":"C","value":"3"}],
      "ports":[{"containerPort":80,"protocol":"TCP"}],
      "volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}}}})");
  const json& app = out["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(app["env"], json::parse(R"([{"name":"A","value":"1"},{"name":"B","value":"20"},
                                        {"name":"C","value":"3"}])"));
  EXPECT_EQ(app["ports"], json::parse(R"([{"containerPort":80,"name":"http","protocol":"TCP"}])"));
  EXPECT_EQ(app["volumeMounts"],
            json::parse(R"([{"name":"data","mountPath":"/data","readOnly":true}])"));
}

TEST(StrategicMergePatchTest, ListsWithoutStrategyAreReplacedAndFinalizersMergeAsASet) {
  json out = Smp(kDeployment, R"({"metadata":{"finalizers":["b","a"]},
      "spec":{"template":{"spec":{"containers":[{"name":"sidecar","args":["serve"]}]}}}})");
  EXPECT_EQ(out["metadata"]["finalizers"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(out["spec"]["template"]["spec"]["containers"][1]["args"], json::parse(R"(["serve"])"));
  json removed = Smp(kDeployment, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})");
  EXPECT_TRUE(removed["metadata"]["finalizers"].empty());
}

TEST(StrategicMergePatchTest, ReplaceDirectivesAndRetainKeys) {
  json list = Smp(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"$patch":"replace"},{"name":"only","image":"x"}]}}}})");
  EXPECT_EQ(list["spec"]["template"]["spec"]["containers"],
            json::parse(R"([{"name":"only","image":"x"}])"));
  json map = Smp(kDeployment, R"({"spec":{"template":{"$patch":"replace","spec":{}}}})");
  EXPECT_EQ(map["spec"]["template"], json::parse(R"({"spec":{}})"));
  json strategy = Smp(json::parse(R"({"spec":{"strategy":{"type":"RollingUpdate",
                                      "rollingUpdate":{"maxSurge":1}}}})"),
                      R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
  EXPECT_EQ(strategy["spec"]["strategy"], json::parse(R"({"type":"Recreate"})"));
  json gone = Smp(kDeployment, R"({"spec":{"template":{"$patch":"delete"}}})");
  EXPECT_FALSE(gone["spec"].contains("template"));
}

TEST(StrategicMergePatchTest, SetElementOrderIsHonouredAndNotStored) {
  json out = Smp(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],
      "containers":[{"name":"app","image":"busybox:3"}]}}}})");
  const json& spec = out["spec"]["template"]["spec"];
  EXPECT_EQ(spec["containers"][0]["name"], "sidecar");
  EXPECT_EQ(spec["containers"][1]["image"], "busybox:3");
  EXPECT_FALSE(spec.contains("$setElementOrder/containers"));
}

TEST(StrategicMergePatchTest, ServicePortsMergeByPortAndNullDeletes) {
  json svc = json::parse(R"({"metadata":{"labels":{"a":"1","b":"2"}},
      "spec":{"ports":[{"port":80,"name":"http"},{"port":443,"name":"https"}]}})");
  json out = Smp(svc, R"({"metadata":{"labels":{"a":null}},
                          "spec":{"ports":[{"port":443,"targetPort":8443}]}})",
                 "Service");
  EXPECT_EQ(out["metadata"]["labels"], json::parse(R"({"b":"2"})"));
  EXPECT_EQ(out["spec"]["ports"][1],
            json::parse(R"({"port":443,"name":"https","targetPort":8443})"));
}

TEST(StrategicMergePatchTest, StatusConditionsMergeByType) {
  json pod = json::parse(R"({"status":{"conditions":[{"type":"Ready","status":"False"},
                                                      {"type":"Initialized","status":"True"}]}})");
  json out = Smp(pod, R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})", "Pod");
  EXPECT_EQ(out["status"]["conditions"].size(), 2u);
  EXPECT_EQ(out["status"]["conditions"][0]["status"], "True");
}

TEST(StrategicMergePatchTest, BadInputIsInvalid) {
  Result<json> no_key = ApplyStrategicMergePatch(
      kDeployment, json::parse(R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})"),
      "Deployment");
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("does not contain declared merge key: name"),
            std::string::npos)
      << no_key.status();
  EXPECT_EQ(ApplyStrategicMergePatch(kDeployment, json::parse("[1]"), "Deployment").status().code(),
            Code::kInvalid);
  EXPECT_FALSE(
      ApplyStrategicMergePatch(kDeployment, json::parse(R"({"spec":{"$patch":"explode"}})"), "Pod")
          .ok());
}

}  // namespace
}  // namespace stash::api
