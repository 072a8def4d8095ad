#include "stash/backend/factory.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stash/core/testing.h"
#include "testing/peer_process.h"

namespace stash::backend {
namespace {

const Env kAwsEnv{{"AWS_ACCESS_KEY_ID", "AKIAFACTORYTEST"},
                  {"AWS_SECRET_ACCESS_KEY", "factory/secret+key"},
                  {"AWS_DEFAULT_REGION", "eu-central-1"},
                  {"RESTIC_PASSWORD", "repo-password-123"}};

TEST(ParseRepository, LocalPaths) {
  auto a = ParseRepository("/srv/repo", {});
  ASSERT_OK(a);
  EXPECT_EQ(a->kind, BackendKind::kLocal);
  EXPECT_EQ(a->local_path, "/srv/repo");
  EXPECT_EQ(ParseRepository("local:/x/y", {})->local_path, "/x/y");
  EXPECT_EQ(ParseRepository("relative/dir", {})->kind, BackendKind::kLocal);
}

TEST(ParseRepository, RestSplitsCredentialsOut) {
  auto s = ParseRepository("rest:http://alice:s3cr3tpw@127.0.0.1:8000/repo/", {});
  ASSERT_OK(s);
  EXPECT_EQ(s->kind, BackendKind::kRest);
  EXPECT_EQ(s->rest.url.user, "alice");
  EXPECT_EQ(s->rest.url.password, "s3cr3tpw");
  EXPECT_EQ(s->Describe(), "rest:http://127.0.0.1:8000/repo/");
}

TEST(ParseRepository, S3FormsAndEnvironment) {
  auto aws = ParseRepository("s3:s3.amazonaws.com/bucket/a//b/", kAwsEnv);
  ASSERT_OK(aws);
  EXPECT_EQ(aws->s3.endpoint.scheme, "https");
  EXPECT_EQ(aws->s3.bucket, "bucket");
  EXPECT_EQ(aws->s3.prefix, "a/b");
  EXPECT_EQ(aws->s3.region, "eu-central-1");
  EXPECT_EQ(aws->s3.access_key_id, "AKIAFACTORYTEST");
  EXPECT_EQ(aws->repository_password, "repo-password-123");
  auto local = ParseRepository("s3:http://127.0.0.1:9000/b", {});
  ASSERT_OK(local);
  EXPECT_EQ(local->s3.endpoint.port, 9000);
  EXPECT_EQ(local->s3.prefix, "");
  EXPECT_EQ(local->s3.region, "us-east-1");
  EXPECT_FALSE(ParseRepository("s3:host", {}).ok());
  EXPECT_FALSE(ParseRepository("s3:h/b", {{"STASH_S3_BUCKET_LOOKUP", "sideways"}}).ok());
}

TEST(ParseRepository, GcsAndAzure) {
  auto g = ParseRepository("gs:bkt:/pre/fix/", {{"STORAGE_EMULATOR_HOST", "127.0.0.1:9199"}});
  ASSERT_OK(g);
  EXPECT_EQ(g->gcs.bucket, "bkt");
  EXPECT_EQ(g->gcs.prefix, "pre/fix");
  EXPECT_TRUE(g->gcs.emulator);
  auto a = ParseRepository("azure:ctr:/p",
                           {{"AZURE_ACCOUNT_NAME", "acct"}, {"AZURE_ACCOUNT_KEY", "a2V5"}});
  ASSERT_OK(a);
  EXPECT_EQ(a->azure.container, "ctr");
  EXPECT_EQ(a->azure.prefix, "p");
  EXPECT_EQ(a->azure.account_name, "acct");
  EXPECT_FALSE(ParseRepository("gs:nocolon", {}).ok());
  EXPECT_EQ(ParseRepository("sftp:host:/x", {}).status().code(), Code::kUnsupported);
  auto missing =
      ParseRepository("gs:b:/p", {{"GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent.json"}});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST(FromStashRepository, MapsEachKindWithItsSecretKeys) {
  std::map<std::string, std::string> secret{{"RESTIC_PASSWORD", "pw"},
                                            {"AWS_ACCESS_KEY_ID", "AKIASTASH"},
                                            {"AWS_SECRET_ACCESS_KEY", "stash-secret"},
                                            {"CA_CERT_DATA", "-----BEGIN CERTIFICATE-----"}};
  auto s3 = FromStashRepository(nlohmann::json::parse(R"({"storageSecretName":"s",
      "s3":{"endpoint":"http://127.0.0.1:9000","bucket":"bk","prefix":"/demo/","region":"ap-south-1",
            "insecureTLS":true}})"),
                                secret);
  ASSERT_OK(s3);
  EXPECT_EQ(s3->kind, BackendKind::kS3);
  EXPECT_EQ(s3->s3.bucket, "bk");
  EXPECT_EQ(s3->s3.prefix, "demo");
  EXPECT_EQ(s3->s3.region, "ap-south-1");
  EXPECT_EQ(s3->s3.secret_access_key, "stash-secret");
  EXPECT_TRUE(s3->s3.http.insecure_tls);
  EXPECT_EQ(s3->s3.http.ca_pem, "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(s3->repository_password, "pw");

  auto rest =
      FromStashRepository(nlohmann::json::parse(R"({"rest":{"url":"http://10.0.0.1:8000/r/"}})"),
                          {{"REST_SERVER_USERNAME", "u"}, {"REST_SERVER_PASSWORD", "restpw1"}});
  ASSERT_OK(rest);
  EXPECT_EQ(rest->rest.url.password, "restpw1");
  EXPECT_EQ(rest->Describe().find("restpw1"), std::string::npos);

  auto gcs = FromStashRepository(
      nlohmann::json::parse(R"({"gcs":{"bucket":"g","prefix":"x","maxConnections":3}})"),
      {{"GOOGLE_PROJECT_ID", "proj"}, {"GOOGLE_SERVICE_ACCOUNT_JSON_KEY", "{}"}});
  ASSERT_OK(gcs);
  EXPECT_EQ(gcs->max_connections, 3);
  EXPECT_EQ(gcs->gcs.project_id, "proj");

  auto local = FromStashRepository(
      nlohmann::json::parse(
          R"({"local":{"mountPath":"/safe","subPath":"ns/app","hostPath":{"path":"/d"}}})"),
      {});
  ASSERT_OK(local);
  EXPECT_EQ(local->local_path, "/safe/ns/app");
}

// Users point restic 0.14 at Azurite with just the emulator account; the
// Stash Secret of an in-cluster Azurite names its service without a path.
TEST(FromStashRepository, AzureEmulatorAccountAndPathlessEndpoints) {
  SeededRandom random(1);
  ManualClock clock;
  auto open = [&](std::map<std::string, std::string> secret) {
    auto spec = FromStashRepository(
        nlohmann::json::parse(R"({"azure":{"container":"ctr","prefix":"/demo/"}})"), secret);
    EXPECT_OK(spec);
    auto b = OpenBackend(*spec, clock, random);
    EXPECT_OK(b);
    return b.ok() ? (*b)->Location() : std::string();
  };
  EXPECT_EQ(open({{"AZURE_ACCOUNT_NAME", "devstoreaccount1"}}),
            "azure:ctr:/demo at http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(open({{"AZURE_ACCOUNT_NAME", "devstoreaccount1"},
                  {"AZURE_ACCOUNT_KEY", "a2V5"},
                  {"AZURE_ENDPOINT", "http://azurite.storage.svc:10000/"}}),
            "azure:ctr:/demo at http://azurite.storage.svc:10000/devstoreaccount1");
  EXPECT_EQ(open({{"AZURE_ACCOUNT_NAME", "acct"},
                  {"AZURE_ACCOUNT_KEY", "a2V5"},
                  {"AZURE_ENDPOINT", "https://acct.blob.core.windows.net"}}),
            "azure:ctr:/demo at https://acct.blob.core.windows.net");
  EXPECT_EQ(open({{"AZURE_ACCOUNT_NAME", "acct"}, {"AZURE_ACCOUNT_KEY", "a2V5"}}),
            "azure:ctr:/demo");
  // Any other account still needs its key.
  auto spec = FromStashRepository(nlohmann::json::parse(R"({"azure":{"container":"c"}})"),
                                  {{"AZURE_ACCOUNT_NAME", "acct"}});
  ASSERT_OK(spec);
  EXPECT_EQ(OpenBackend(*spec, clock, random).status().code(), Code::kInvalid);
}

TEST(FromStashRepository, RejectsIncompleteSpecsNamingTheField) {
  auto r = FromStashRepository(nlohmann::json::parse(R"({"s3":{"endpoint":"e"}})"), {});
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(r.status().message().find("spec.backend.s3.bucket"), std::string::npos);
  EXPECT_FALSE(FromStashRepository(nlohmann::json::parse(R"({"local":{},"s3":{}})"), {}).ok());
  EXPECT_FALSE(FromStashRepository(nlohmann::json::parse(R"({})"), {}).ok());
  EXPECT_EQ(
      FromStashRepository(nlohmann::json::parse(R"({"b2":{"bucket":"x"}})"), {}).status().code(),
      Code::kUnsupported);
}

TEST(OpenBackend, WrapsRetryAroundLimitAndHonoursMaxConnections) {
  RealClock clock;
  SystemRandom random;
  auto spec = ParseRepository("rest:http://127.0.0.1:1/r/", {{"STASH_MAX_CONNECTIONS", "3"}});
  ASSERT_OK(spec);
  auto b = OpenBackend(*spec, clock, random);
  ASSERT_OK(b);
  EXPECT_EQ((*b)->Connections(), 3);
  EXPECT_NE(dynamic_cast<RetryBackend*>(b->get()), nullptr);
  auto local = OpenBackend("/tmp/x", {}, clock, random);
  ASSERT_OK(local);
  EXPECT_EQ((*local)->Connections(), 2);
}

// Secrets must not appear in Location() or in the errors of a backend whose
// store cannot be reached.
TEST(OpenBackend, CredentialsNeverAppearInLocationsOrErrors) {
  RealClock clock;
  SystemRandom random;
  const std::string port = std::to_string(testing::FreePort());
  const std::vector<std::string> secrets{"AKIALEAKCHECK", "leak/check+secret", "restleakpw",
                                         "bGVha2tleWxlYWtrZXk="};
  Env env{{"AWS_ACCESS_KEY_ID", secrets[0]},
          {"AWS_SECRET_ACCESS_KEY", secrets[1]},
          {"AZURE_ACCOUNT_NAME", "acct"},
          {"AZURE_ACCOUNT_KEY", secrets[3]},
          {"AZURE_ENDPOINT", "http://127.0.0.1:" + port + "/acct"}};
  RetryOptions quick{.max_attempts = 2, .initial_delay = std::chrono::milliseconds(1)};
  for (const std::string& repo :
       {"s3:http://127.0.0.1:" + port + "/b/p",
        "rest:http://u:restleakpw@127.0.0.1:" + port + "/r/", std::string("azure:ctr:/p")}) {
    auto spec = ParseRepository(repo, env);
    ASSERT_OK(spec);
    auto b = OpenBackend(*spec, clock, random, quick);
    ASSERT_OK(b);
    std::vector<uint8_t> out;
    Status s = (*b)->Load(Handle{FileType::kConfig, "config"}, 0, 0, &out);
    EXPECT_EQ(s.code(), Code::kUnavailable) << s;
    for (const std::string& text : {(*b)->Location(), spec->Describe(), s.message()}) {
      for (const std::string& secret : secrets) {
        EXPECT_EQ(text.find(secret), std::string::npos) << repo << ": " << text;
      }
    }
  }
}

}  // namespace
}  // namespace stash::backend
