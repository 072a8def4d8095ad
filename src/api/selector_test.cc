#include "stash/api/selector.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

bool LabelsMatch(const char* selector, const char* labels) {
  Result<LabelSelector> s = LabelSelector::Parse(selector);
  EXPECT_OK(s) << selector << ": " << s.status();
  return s.ok() && s->Matches(json::parse(labels));
}

TEST(LabelSelectorTest, EqualityAndInequality) {
  EXPECT_TRUE(LabelsMatch("app=web", R"({"app":"web","tier":"fe"})"));
  EXPECT_TRUE(LabelsMatch("app==web", R"({"app":"web"})"));
  EXPECT_FALSE(LabelsMatch("app=web", R"({"app":"db"})"));
  EXPECT_FALSE(LabelsMatch("app=web", R"({})"));
  EXPECT_TRUE(LabelsMatch("app!=web", R"({})")) << "!= also matches a missing label";
  EXPECT_FALSE(LabelsMatch("app!=web", R"({"app":"web"})"));
  EXPECT_TRUE(LabelsMatch("app=", R"({"app":""})"));
}

TEST(LabelSelectorTest, SetBasedAndExistence) {
  const char* labels = R"({"env":"prod","stash.appscode.com/invoker-name":"pause-backup"})";
  EXPECT_TRUE(LabelsMatch("env in (qa, prod)", labels));
  EXPECT_FALSE(LabelsMatch("env notin (qa,prod)", labels));
  EXPECT_TRUE(LabelsMatch("tier notin (db)", labels)) << "notin matches a missing label";
  EXPECT_FALSE(LabelsMatch("tier in (db)", labels));
  EXPECT_TRUE(LabelsMatch("env,!legacy", labels));
  EXPECT_FALSE(LabelsMatch("!env", labels));
  EXPECT_TRUE(LabelsMatch("stash.appscode.com/invoker-name=pause-backup, env in (prod)", labels));
  EXPECT_FALSE(LabelsMatch("env=prod,legacy", labels)) << "all requirements must hold";
  EXPECT_TRUE(LabelsMatch("", labels));
  EXPECT_TRUE(LabelsMatch("env", R"({"env":"x"})"));
  EXPECT_FALSE(LabelsMatch("env", "null"));
}

TEST(LabelSelectorTest, MalformedSelectorsAreInvalidWithAReason) {
  struct Case {
    const char* selector;
    const char* message_part;
  };
  const Case cases[] = {
      {"app=web,", "found '', expected: identifier"},
      {"app in (a", "expected: ',' or ')'"},
      {"app in a", "expected: '('"},
      {"app in ()", "values set can't be empty"},
      {"=web", "found '=', expected: identifier"},
      {"app=web tier=x", "expected: ',' or 'end of string'"},
      {"!app=web", "expected: ',' or 'end of string'"},
      {"app>5", "found '>'"},
      {"-app=x", "invalid label key \"-app\""},
      {"Bad_Prefix/app=x", "invalid label key"},
      {"app=-x", "invalid label value"},
      {"app=a,,b=c", "found ',', expected: identifier"},
  };
  for (const Case& c : cases) {
    Result<LabelSelector> s = LabelSelector::Parse(c.selector);
    ASSERT_FALSE(s.ok()) << c.selector;
    EXPECT_EQ(s.status().code(), Code::kInvalid);
    EXPECT_NE(s.status().message().find(c.message_part), std::string::npos)
        << c.selector << " -> " << s.status().message();
  }
}

TEST(LabelSelectorTest, CanonicalStringSortsByKey) {
  EXPECT_EQ(LabelSelector::Parse("z=1, a in (y,x), !m, k")->ToString(), "a in (x,y),k,!m,z=1");
}

TEST(LabelSelectorTest, FromMetav1LabelSelector) {
  Result<LabelSelector> s = LabelSelector::FromJson(json::parse(R"({
      "matchLabels":{"app":"stash-demo"},
      "matchExpressions":[{"key":"tier","operator":"NotIn","values":["db"]},
                          {"key":"app","operator":"Exists"}]})"));
  ASSERT_OK(s);
  EXPECT_TRUE(s->MatchesObject(json::parse(R"({"metadata":{"labels":{"app":"stash-demo"}}})")));
  EXPECT_FALSE(s->MatchesObject(json::parse(R"({"metadata":{"labels":{"app":"x"}}})")));
  EXPECT_FALSE(s->MatchesObject(json::parse(R"({"metadata":{}})")));
  EXPECT_TRUE(LabelSelector::FromJson(json())->empty());
  EXPECT_FALSE(LabelSelector::FromJson(
                   json::parse(R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})"))
                   .ok());
  EXPECT_FALSE(
      LabelSelector::FromJson(json::parse(R"({"matchExpressions":[{"key":"a","operator":"Gt"}]})"))
          .ok());
}

const json kEvent = json::parse(R"({
  "metadata":{"name":"pause-backup.1800a1b2c3d4e5f6","namespace":"demo"},
  "involvedObject":{"kind":"BackupConfiguration","name":"pause-backup","namespace":"demo",
                    "uid":"0f6c-11"},
  "type":"Warning","count":4,"source":{"component":"stash-operator"}})");

bool FieldsMatch(const char* selector, const json& object) {
  Result<FieldSelector> s = FieldSelector::Parse(selector);
  EXPECT_OK(s) << selector << ": " << s.status();
  return s.ok() && s->Matches(object);
}

TEST(FieldSelectorTest, DescribeEventSelectorInAnyOrder) {
  EXPECT_TRUE(
      FieldsMatch("involvedObject.name=pause-backup,involvedObject.namespace=demo,"
                  "involvedObject.kind=BackupConfiguration,involvedObject.uid=0f6c-11",
                  kEvent));
  EXPECT_TRUE(
      FieldsMatch("involvedObject.uid=0f6c-11,involvedObject.kind=BackupConfiguration,"
                  "involvedObject.name=pause-backup,involvedObject.namespace=demo",
                  kEvent));
  EXPECT_FALSE(FieldsMatch("involvedObject.name=pause-backup,involvedObject.uid=other", kEvent));
}

TEST(FieldSelectorTest, OperatorsMissingFieldsAndScalars) {
  EXPECT_TRUE(FieldsMatch("metadata.name==pause-backup.1800a1b2c3d4e5f6", kEvent));
  EXPECT_TRUE(FieldsMatch("type!=Normal", kEvent));
  EXPECT_FALSE(FieldsMatch("type!=Warning", kEvent));
  EXPECT_TRUE(FieldsMatch("reason=", kEvent)) << "a missing field reads as empty";
  EXPECT_TRUE(FieldsMatch("count=4", kEvent));
  EXPECT_TRUE(FieldsMatch("source=stash-operator", kEvent)) << "events' source is the component";
  EXPECT_TRUE(FieldsMatch("", kEvent));
  EXPECT_TRUE(FieldsMatch(R"(metadata.name=a\,b)", json::parse(R"({"metadata":{"name":"a,b"}})")));
}

TEST(FieldSelectorTest, MalformedSelectorsAreInvalid) {
  for (const char* bad : {"metadata.name", "=x", "a=b,c", R"(a=b\x)"}) {
    Result<FieldSelector> s = FieldSelector::Parse(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), Code::kInvalid);
    EXPECT_NE(s.status().message().find("invalid field selector"), std::string::npos) << s.status();
  }
}

TEST(FieldSelectorTest, RequiredValueAndRoundTrip) {
  Result<FieldSelector> s = FieldSelector::Parse("metadata.name=pause-backup,status.phase!=Failed");
  ASSERT_OK(s);
  ASSERT_NE(s->RequiredValue("metadata.name"), nullptr);
  EXPECT_EQ(*s->RequiredValue("metadata.name"), "pause-backup");
  EXPECT_EQ(s->RequiredValue("status.phase"), nullptr);
  EXPECT_EQ(s->ToString(), "metadata.name=pause-backup,status.phase!=Failed");
  EXPECT_EQ(FieldSelector::Parse(R"(a=x\=y)")->requirements()[0].value, "x=y");
}

TEST(FieldSelectorTest, OnlyTheFieldLabelsTheApiserverDeclares) {
  auto check = [](const char* selector, const char* resource) {
    return CheckFieldSelectorSupported(*FieldSelector::Parse(selector), resource);
  };
  EXPECT_OK(check("involvedObject.name=x,involvedObject.uid=u,type=Normal", "events"));
  EXPECT_OK(check("metadata.name=pause-backup", "backupconfigurations"));
  EXPECT_OK(check("metadata.namespace=demo,status.phase=Running", "pods"));
  EXPECT_OK(check("type=Opaque", "secrets"));
  Status s = check("spec.schedule=x", "backupconfigurations");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "field label not supported: spec.schedule");
  EXPECT_FALSE(check("type=Opaque", "configmaps").ok());
  EXPECT_FALSE(check("status.phase=Running", "deployments").ok());
}

}  // namespace
}  // namespace stash::api
