#include "stash/api/schema.h"

#include <gtest/gtest.h>

namespace stash::api {
namespace {

using json = nlohmann::json;

const json kSchema = json::parse(R"({
  "type":"object",
  "properties":{
    "apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},
    "spec":{"type":"object","required":["retentionPolicy"],"properties":{
      "schedule":{"type":"string"},
      "paused":{"type":"boolean"},
      "driver":{"type":"string","enum":["Restic","VolumeSnapshotter"]},
      "replicas":{"type":"integer","format":"int32","minimum":0,"maximum":10},
      "ratio":{"type":"number","exclusiveMinimum":true,"minimum":0},
      "timeOut":{"type":"string","pattern":"^[0-9]+(s|m|h)$","maxLength":5},
      "since":{"type":"string","format":"date-time"},
      "size":{"x-kubernetes-int-or-string":true},
      "paths":{"type":"array","maxItems":2,"items":{"type":"string","minLength":1}},
      "labels":{"type":"object","additionalProperties":{"type":"string"}},
      "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
      "note":{"type":"string","nullable":true},
      "retentionPolicy":{"type":"object","required":["name"],"properties":{
        "name":{"type":"string"},"keepLast":{"type":"integer","default":5},
        "prune":{"type":"boolean","default":false}}}}},
    "status":{"type":"object","properties":{"phase":{"type":"string"}}}}})");

json Object(const char* spec) {
  json o = json::parse(R"({"apiVersion":"stash.appscode.com/v1beta1","kind":"BackupConfiguration",
                           "metadata":{"name":"pause-backup","namespace":"demo",
                                       "annotations":{"a":"b"}}})");
  o["spec"] = json::parse(spec);
  return o;
}

std::vector<std::string> Messages(const char* spec, bool strict = true) {
  std::vector<std::string> out;
  for (const FieldError& e : Validate(kSchema, Object(spec), strict)) out.push_back(e.message);
  return out;
}

using V = std::vector<std::string>;

TEST(SchemaTest, ValidObjectHasNoErrors) {
  EXPECT_EQ(Messages(R"({"schedule":"*/5 * * * *","paused":true,"driver":"Restic","replicas":3,
      "ratio":0.5,"timeOut":"2h","since":"2026-11-26T06:17:00Z","size":"1Gi",
      "paths":["/source/data"],"labels":{"a":"b"},"free":{"any":{"thing":[1]}},"note":null,
      "retentionPolicy":{"name":"keep-last-5","keepLast":5,"prune":true}})"),
            V{});
  EXPECT_EQ(Messages(R"({"size":5,"replicas":2.0,"retentionPolicy":{"name":"x"}})"), V{});
}

TEST(SchemaTest, WrongTypeNamesTheFieldAsKubernetesDoes) {
  std::vector<FieldError> errors =
      Validate(kSchema, Object(R"({"schedule":5,"retentionPolicy":{"name":"x"}})"), true);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.schedule");
  EXPECT_EQ(errors[0].type, "Invalid value");
  EXPECT_EQ(
      errors[0].message,
      R"(spec.schedule: Invalid value: "integer": spec.schedule in body must be of type string: "integer")");
  EXPECT_EQ(errors[0].body,
            R"(Invalid value: "integer": spec.schedule in body must be of type string: "integer")");
  EXPECT_EQ(
      Messages(R"({"paused":"yes","replicas":1.5,"size":true,"paths":"/a",
                         "retentionPolicy":{"name":["x"]}})"),
      (V{R"(spec.paths: Invalid value: "string": spec.paths in body must be of type array: "string")",
         R"(spec.paused: Invalid value: "string": spec.paused in body must be of type boolean: "string")",
         R"(spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number")",
         R"(spec.retentionPolicy.name: Invalid value: "array": spec.retentionPolicy.name in body must be of type string: "array")",
         R"(spec.size: Invalid value: "boolean": spec.size in body must be of type integer,string: "boolean")"}));
  // The apiserver drops nulls the schema does not allow instead of failing.
  EXPECT_EQ(Messages(R"({"schedule":null,"retentionPolicy":{"name":"x"}})"), V{});
}

TEST(SchemaTest, RequiredValues) {
  EXPECT_EQ(Messages(R"({})"), V{"spec.retentionPolicy: Required value"});
  EXPECT_EQ(Messages(R"({"retentionPolicy":null})"), V{"spec.retentionPolicy: Required value"})
      << "a null that is dropped leaves a required field missing";
  std::vector<FieldError> errors =
      Validate(kSchema, Object(R"({"retentionPolicy":{"keepLast":5}})"), true);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.retentionPolicy.name");
  EXPECT_EQ(errors[0].type, "Required value");
  EXPECT_EQ(errors[0].message, "spec.retentionPolicy.name: Required value");
  EXPECT_EQ(errors[0].body, "Required value");
}

TEST(SchemaTest, EnumFormatPatternAndBounds) {
  EXPECT_EQ(
      Messages(R"({"driver":"Borg","retentionPolicy":{"name":"x"}})"),
      V{R"(spec.driver: Unsupported value: "Borg": supported values: "Restic", "VolumeSnapshotter")"});
  EXPECT_EQ(
      Messages(R"({"since":"yesterday","timeOut":"2 days","replicas":11,"ratio":0,
                         "paths":["/a","","/c"],"retentionPolicy":{"name":"x"}})"),
      (V{R"(spec.paths: Too many: 3: must have at most 2 items)",
         R"(spec.paths[1]: Invalid value: "": spec.paths[1] in body should be at least 1 chars long)",
         R"(spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0)",
         R"(spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10)",
         R"(spec.since: Invalid value: "yesterday": spec.since in body must be of type date-time: "yesterday")",
         R"(spec.timeOut: Invalid value: "2 days": spec.timeOut in body should match '^[0-9]+(s|m|h)$')",
         R"(spec.timeOut: Too long: may not be longer than 5)"}));
}

TEST(SchemaTest, UnknownFieldsAreErrorsOnlyWhenStrict) {
  const char* spec = R"({"schedul":"x","labels":{"free":"form"},"free":{"x":1},
                         "retentionPolicy":{"name":"x","keep":1}})";
  std::vector<FieldError> errors = Validate(kSchema, Object(spec), true);
  V messages;
  for (const FieldError& e : errors) messages.push_back(e.message);
  EXPECT_EQ(messages,
            (V{R"(unknown field "spec.retentionPolicy.keep")", R"(unknown field "spec.schedul")"}));
  EXPECT_EQ(errors[0].type, "unknown field");
  EXPECT_EQ(errors[0].field, "spec.retentionPolicy.keep");
  EXPECT_EQ(Messages(spec, /*strict=*/false), V{});
  json top = Object(R"({"retentionPolicy":{"name":"x"}})");
  top["extra"] = 1;
  EXPECT_EQ(Validate(kSchema, top, true).size(), 1u) << "unknown top-level fields too";
}

TEST(SchemaTest, PruneDropsUnknownFieldsAndReportsThem) {
  json o = Object(R"({"schedul":"x","free":{"x":1},"labels":{"k":"v"},
                      "retentionPolicy":{"name":"x","keep":1}})");
  o["extra"] = true;
  PruneResult r = PruneUnknownFields(kSchema, o);
  EXPECT_EQ(r.pruned, (V{"extra", "spec.retentionPolicy.keep", "spec.schedul"}));
  EXPECT_EQ(r.object["spec"], json::parse(R"({"free":{"x":1},"labels":{"k":"v"},
                                              "retentionPolicy":{"name":"x"}})"));
  EXPECT_EQ(r.object["metadata"]["annotations"]["a"], "b") << "metadata is never pruned";
}

TEST(SchemaTest, DefaultsFillAbsentFieldsOnly) {
  json out = ApplyDefaults(kSchema, Object(R"({"retentionPolicy":{"name":"x","keepLast":2}})"));
  EXPECT_EQ(out["spec"]["retentionPolicy"],
            json::parse(R"({"name":"x","keepLast":2,"prune":false})"));
  json nulls = ApplyDefaults(kSchema, Object(R"({"schedule":null,"note":null,
                                                 "retentionPolicy":{"name":"x","keepLast":null}})"));
  EXPECT_FALSE(nulls["spec"].contains("schedule")) << "a null the schema forbids is dropped";
  EXPECT_TRUE(nulls["spec"]["note"].is_null()) << "nullable keeps null";
  EXPECT_EQ(nulls["spec"]["retentionPolicy"]["keepLast"], 5);
  EXPECT_TRUE(Validate(kSchema, nulls, true).empty());
}

TEST(SchemaTest, MetadataMustBeAnObject) {
  json o = Object(R"({"retentionPolicy":{"name":"x"}})");
  o["metadata"] = "x";
  ASSERT_EQ(Validate(kSchema, o, true).size(), 1u);
  EXPECT_EQ(Validate(kSchema, o, true)[0].field, "metadata");
}

TEST(SchemaTest, Combinators) {
  // The shape of Repository's backend rule: exactly one provider, and a
  // required field that may come from either of two alternatives.
  const json schema = json::parse(R"({"type":"object","properties":{
      "backend":{"type":"object","properties":{"s3":{"type":"object"},"gcs":{"type":"object"}},
                 "oneOf":[{"required":["s3"]},{"required":["gcs"]}]},
      "size":{"x-kubernetes-int-or-string":true,
              "anyOf":[{"type":"integer"},{"type":"string","pattern":"^[0-9]+Gi$"}]},
      "name":{"type":"string","allOf":[{"minLength":2},{"maxLength":4}],
              "not":{"enum":["root"]}}}})");
  auto messages = [&](const char* object) {
    V out;
    for (const FieldError& e : Validate(schema, json::parse(object), true)) {
      out.push_back(e.message);
    }
    return out;
  };
  EXPECT_EQ(messages(R"({"backend":{"gcs":{}},"size":"5Gi","name":"ok"})"), V{});
  EXPECT_EQ(messages(R"({"backend":{"gcs":{},"s3":{}}})"),
            V{"backend: Invalid value: \"object\": backend in body must validate one and only "
              "one schema (oneOf). Found 2 valid alternatives"});
  EXPECT_EQ(messages(R"({"backend":{}})"),
            V{"backend: Invalid value: \"object\": backend in body must validate one and only "
              "one schema (oneOf). Found none valid"});
  EXPECT_EQ(
      messages(R"({"size":"5 GB"})"),
      V{R"(size: Invalid value: "5 GB": size in body must validate at least one schema (anyOf))"});
  EXPECT_EQ(messages(R"({"name":"x"})"),
            V{R"(name: Invalid value: "x": name in body should be at least 2 chars long)"});
  EXPECT_EQ(messages(R"({"name":"root"})"),
            V{R"(name: Invalid value: "root": name in body must not validate the schema (not))"});
}

TEST(SchemaTest, JsonTypeNames) {
  EXPECT_EQ(JsonTypeName(json(1)), "integer");
  EXPECT_EQ(JsonTypeName(json(1.0)), "integer");
  EXPECT_EQ(JsonTypeName(json(1.5)), "number");
  EXPECT_EQ(JsonTypeName(json("s")), "string");
  EXPECT_EQ(JsonTypeName(json()), "null");
}

}  // namespace
}  // namespace stash::api
