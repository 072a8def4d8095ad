#include "stash/backend/gcs.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include "digest.h"
#include "stash/core/base64.h"
#include "stash/core/testing.h"

namespace stash::backend {
namespace {

struct KeyPair {
  std::string private_pem;
  EVP_PKEY* pkey = nullptr;
  ~KeyPair() { EVP_PKEY_free(pkey); }
};

void MakeKey(KeyPair* kp) {
  kp->pkey = EVP_RSA_gen(2048);
  ASSERT_NE(kp->pkey, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, kp->pkey, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  kp->private_pem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
}

std::string FromBase64Url(const std::string& s) {
  auto r = Base64Decode(s, Base64Encoding::kRawUrl);
  return r.ok() ? *r : "";
}

TEST(GcsJwt, AssertionIsAnRs256JwtForTheTokenEndpointThatVerifies) {
  KeyPair kp;
  MakeKey(&kp);
  nlohmann::json key_json = {{"type", "service_account"},
                             {"client_email", "backup@proj.iam.gserviceaccount.com"},
                             {"private_key", kp.private_pem},
                             {"token_uri", "https://oauth2.example.test/token"}};
  auto key = ParseServiceAccountKey(key_json.dump());
  ASSERT_OK(key);
  const SystemTime now = SystemTime{} + std::chrono::seconds(1700000000);
  auto jwt = MakeJwtAssertion(*key, now);
  ASSERT_OK(jwt);

  auto dot1 = jwt->find('.'), dot2 = jwt->rfind('.');
  ASSERT_NE(dot1, dot2);
  auto header = nlohmann::json::parse(FromBase64Url(jwt->substr(0, dot1)));
  auto claims = nlohmann::json::parse(FromBase64Url(jwt->substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(claims["iss"], "backup@proj.iam.gserviceaccount.com");
  EXPECT_EQ(claims["aud"], "https://oauth2.example.test/token");
  EXPECT_EQ(claims["scope"], "https://www.googleapis.com/auth/devstorage.read_write");
  EXPECT_EQ(claims["iat"], 1700000000);
  EXPECT_EQ(claims["exp"], 1700003600);
  EXPECT_EQ(jwt->find('='), std::string::npos) << "base64url without padding";

  std::string signed_part = jwt->substr(0, dot2);
  std::string sig = FromBase64Url(jwt->substr(dot2 + 1));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, kp.pkey), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()),
            1);
  EVP_MD_CTX_free(ctx);
}

TEST(GcsJwt, BadKeysAreRejectedWithoutQuotingThem) {
  auto not_json = ParseServiceAccountKey("private_key=-----BEGIN zzz");
  EXPECT_EQ(not_json.status().code(), Code::kInvalid);
  EXPECT_EQ(not_json.status().message().find("zzz"), std::string::npos);
  auto no_email = ParseServiceAccountKey(R"({"private_key":"k"})");
  EXPECT_EQ(no_email.status().code(), Code::kInvalid);
  ServiceAccountKey bad{"a@b", "-----BEGIN PRIVATE KEY-----\nnotakey\n-----END PRIVATE KEY-----",
                        "https://t"};
  auto jwt = MakeJwtAssertion(bad, SystemTime{});
  EXPECT_EQ(jwt.status().code(), Code::kInvalid);
  EXPECT_EQ(jwt.status().message().find("notakey"), std::string::npos);
}

TEST(GcsBackend, NeedsCredentialsUnlessAnEmulatorIsUsed) {
  ManualClock clock;
  GcsConfig c;
  c.bucket = "b";
  auto none = GcsBackend::Open(c, clock);
  EXPECT_EQ(none.status().code(), Code::kInvalid);
  EXPECT_NE(none.status().message().find("GOOGLE_APPLICATION_CREDENTIALS"), std::string::npos);
  c.emulator = true;
  c.endpoint = "127.0.0.1:9199";
  c.prefix = "/a/b/";
  auto emu = GcsBackend::Open(c, clock);
  ASSERT_OK(emu);
  EXPECT_EQ((*emu)->ObjectName(Handle{FileType::kPack, "abcd"}), "a/b/data/ab/abcd");
  EXPECT_EQ((*emu)->Location(), "gs:b:/a/b at http://127.0.0.1:9199");
}

}  // namespace
}  // namespace stash::backend
