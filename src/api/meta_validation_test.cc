#include "meta_validation.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

ResourceInfo Info(const std::string& group, const std::string& resource, const std::string& kind) {
  ResourceInfo r;
  r.group = group;
  r.version = "v1";
  r.resource = resource;
  r.kind = kind;
  return r;
}

std::vector<std::string> Messages(const ResourceInfo& info, const json& obj, bool create = true) {
  std::vector<std::string> out;
  for (const FieldError& e : ValidateObjectMeta(info, obj, create).invalid)
    out.push_back(e.message);
  return out;
}

json Named(const std::string& name) { return {{"metadata", {{"name", name}}}}; }

TEST(MetaValidationTest, NamespacesAreDnsLabels) {
  const ResourceInfo ns = Info("", "namespaces", "Namespace");
  EXPECT_TRUE(Messages(ns, Named("demo-1")).empty());
  auto dotted = Messages(ns, Named("a.b"));
  ASSERT_EQ(dotted.size(), 1u);
  EXPECT_EQ(dotted[0], "metadata.name: Invalid value: \"a.b\": must not contain dots");
  auto long_name = Messages(ns, Named(std::string(70, 'a')));
  ASSERT_EQ(long_name.size(), 1u);
  EXPECT_NE(long_name[0].find("must be no more than 63 characters"), std::string::npos);
  auto upper = Messages(ns, Named("Demo"));
  ASSERT_EQ(upper.size(), 1u);
  EXPECT_NE(upper[0].find("a lowercase RFC 1123 label must consist of"), std::string::npos);
}

TEST(MetaValidationTest, NameRulesDependOnTheKind) {
  const ResourceInfo cm = Info("", "configmaps", "ConfigMap");
  EXPECT_TRUE(Messages(cm, Named("a.b-c")).empty());
  EXPECT_FALSE(Messages(cm, Named(std::string(254, 'a'))).empty());
  EXPECT_FALSE(Messages(cm, Named("under_score")).empty());
  const ResourceInfo svc = Info("", "services", "Service");
  EXPECT_FALSE(Messages(svc, Named("1abc")).empty());
  EXPECT_FALSE(Messages(svc, Named("a.b")).empty());
  const ResourceInfo role = Info("rbac.authorization.k8s.io", "roles", "Role");
  EXPECT_TRUE(Messages(role, Named("system:controller:x")).empty());
  EXPECT_FALSE(Messages(role, Named("a/b")).empty());
  const ResourceInfo cron = Info("batch", "cronjobs", "CronJob");
  EXPECT_FALSE(Messages(cron, Named(std::string(53, 'c'))).empty());
  const ResourceInfo crd =
      Info("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition");
  json c = Named("foos.example.com");
  c["spec"] = {{"group", "example.com"}, {"names", {{"plural", "foos"}}}};
  EXPECT_TRUE(Messages(crd, c).empty());
  c["metadata"]["name"] = "bars.example.com";
  EXPECT_FALSE(Messages(crd, c).empty());
  // Names are only checked on create (they cannot change afterwards).
  EXPECT_TRUE(Messages(cm, Named("Bad_Name"), /*create=*/false).empty());
}

TEST(MetaValidationTest, GenerateNameMayEndInADash) {
  const ResourceInfo cm = Info("", "configmaps", "ConfigMap");
  EXPECT_TRUE(Messages(cm, {{"metadata", {{"generateName", "job-"}}}}).empty());
  EXPECT_FALSE(Messages(cm, {{"metadata", {{"generateName", "Job-"}}}}).empty());
}

TEST(MetaValidationTest, LabelsAsKubernetesChecksThem) {
  const ResourceInfo cm = Info("", "configmaps", "ConfigMap");
  json obj = Named("x");
  obj["metadata"]["labels"] = {{"app.kubernetes.io/name", "web"}, {"empty", ""}};
  EXPECT_TRUE(Messages(cm, obj).empty());
  obj["metadata"]["labels"] = {{"k", std::string(1000000, 'v')}};
  auto long_value = Messages(cm, obj);
  ASSERT_EQ(long_value.size(), 2u);  // the value, and the labels' total size
  EXPECT_EQ(long_value[1], "metadata.labels: Too long: must have at most 262144 bytes");
  EXPECT_NE(long_value[0].find("metadata.labels: Invalid value: \"vvvv"), std::string::npos);
  EXPECT_NE(long_value[0].find("must be no more than 63 characters"), std::string::npos);
  EXPECT_LT(long_value[0].size(), 1000u);  // the value is cut in the message
  obj["metadata"]["labels"] = {{"-bad", "v"}};
  auto bad_key = Messages(cm, obj);
  ASSERT_EQ(bad_key.size(), 1u);
  EXPECT_EQ(bad_key[0],
            "metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  obj["metadata"]["labels"] = {{"a/b/c", "v"}, {"Example.com/x", "v"}};
  EXPECT_EQ(Messages(cm, obj).size(), 2u);
  json many = json::object();
  for (int i = 0; i < 100000; ++i) many["k" + std::to_string(i)] = "v";
  obj["metadata"]["labels"] = many;
  auto too_many = Messages(cm, obj);
  ASSERT_EQ(too_many.size(), 1u);
  EXPECT_EQ(too_many[0], "metadata.labels: Too long: must have at most 262144 bytes");
}

TEST(MetaValidationTest, AnnotationsAreLimitedTo256KiBInTotal) {
  const ResourceInfo cm = Info("", "configmaps", "ConfigMap");
  json obj = Named("x");
  obj["metadata"]["annotations"] = {{"a", std::string(200 * 1024, 'x')},
                                    {"B", std::string(100 * 1024, 'y')}};
  auto r = Messages(cm, obj);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], "metadata.annotations: Too long: must have at most 262144 bytes");
  obj["metadata"]["annotations"] = {{"Mixed.Case/Key", "ok"}};
  EXPECT_TRUE(Messages(cm, obj).empty());
}

TEST(MetaValidationTest, WrongTypesAreDecodingErrors) {
  const ResourceInfo cm = Info("", "configmaps", "ConfigMap");
  json obj = Named("x");
  obj["metadata"]["labels"] = {{"k", 5}};
  MetaValidation v = ValidateObjectMeta(cm, obj, true);
  ASSERT_FALSE(v.bad_request.ok());
  EXPECT_NE(v.bad_request.message().find("cannot unmarshal number"), std::string::npos);
  EXPECT_FALSE(CheckTypeMeta({{"kind", 5}}).ok());
  EXPECT_FALSE(CheckTypeMeta({{"metadata", "x"}}).ok());
  EXPECT_FALSE(CheckTypeMeta({{"metadata", {{"finalizers", "x"}}}}).ok());
  EXPECT_OK(CheckTypeMeta({{"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}}));
}

}  // namespace
}  // namespace stash::api
