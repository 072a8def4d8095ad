#include "encryption.h"

#include <gtest/gtest.h>

#include "stash/core/base64.h"
#include "stash/core/testing.h"

namespace stash::api {
namespace {

std::string Key(char c) { return std::string(32, c); }

std::unique_ptr<EncryptionAtRest> Parse(const std::string& text, Random& random) {
  auto r = EncryptionAtRest::Parse(text, random);
  EXPECT_OK(r);
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(EncryptionAtRestTest, SecretsRoundTripWithKubesFormat) {
  SeededRandom random(1);
  auto enc = Parse(EncryptionAtRest::NewConfig(Key('k')), random);
  ASSERT_TRUE(enc);
  EXPECT_TRUE(enc->Applies("/secrets"));
  EXPECT_FALSE(enc->Applies("/configmaps"));
  auto stored = enc->ToStorage("/secrets", "{\"data\":{\"p\":\"c2VjcmV0\"}}", "objects/s");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->rfind("k8s:enc:aesgcm:v1:key1:", 0), 0u);
  EXPECT_EQ(stored->find("c2VjcmV0"), std::string::npos);
  bool stale = true;
  auto back = enc->FromStorage("/secrets", *stored, "objects/s", &stale);
  ASSERT_OK(back);
  EXPECT_EQ(*back, "{\"data\":{\"p\":\"c2VjcmV0\"}}");
  EXPECT_FALSE(stale);
  // Bound to its row: the same bytes under another name do not decrypt.
  auto moved = enc->FromStorage("/secrets", *stored, "objects/other", &stale);
  EXPECT_EQ(moved.status().code(), Code::kDataLoss);
  // Plaintext from before encryption is read, and marked for rewriting.
  auto plain = enc->FromStorage("/secrets", "{}", "objects/s", &stale);
  ASSERT_OK(plain);
  EXPECT_TRUE(stale);
}

TEST(EncryptionAtRestTest, RotationReadsOldKeysAndWritesWithTheFirst) {
  SeededRandom random(2);
  auto old_config = Parse(EncryptionAtRest::NewConfig(Key('a')), random);
  auto stored = old_config->ToStorage("/secrets", "v", "c");
  ASSERT_OK(stored);
  const std::string rotated =
      "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n"
      "- resources: [secrets, configmaps, '*.apps']\n  providers:\n"
      "  - aescbc:\n      keys:\n      - {name: key2, secret: " +
      Base64Encode(Key('b')) +
      "}\n  - aesgcm:\n      keys:\n      - {name: key1, secret: " + Base64Encode(Key('a')) + "}\n";
  auto enc = Parse(rotated, random);
  ASSERT_TRUE(enc);
  EXPECT_TRUE(enc->Applies("/configmaps"));
  EXPECT_TRUE(enc->Applies("apps/deployments"));
  EXPECT_FALSE(enc->Applies("batch/jobs"));
  bool stale = false;
  auto back = enc->FromStorage("/secrets", *stored, "c", &stale);
  ASSERT_OK(back);
  EXPECT_EQ(*back, "v");
  EXPECT_TRUE(stale);  // written with key1, the config now writes with key2
  auto cbc = enc->ToStorage("/secrets", "value", "c");
  ASSERT_OK(cbc);
  EXPECT_EQ(cbc->rfind("k8s:enc:aescbc:v1:key2:", 0), 0u);
  auto again = enc->FromStorage("/secrets", *cbc, "c", &stale);
  ASSERT_OK(again);
  EXPECT_EQ(*again, "value");
  EXPECT_FALSE(stale);
  // A key the configuration no longer lists is an error that says so.
  auto lost = Parse(EncryptionAtRest::NewConfig(Key('z')), random)
                  ->FromStorage("/secrets", *cbc, "c", &stale);
  ASSERT_FALSE(lost.ok());
  EXPECT_NE(lost.status().message().find("key2"), std::string::npos);
}

TEST(EncryptionAtRestTest, BadConfigurationsSayWhatIsWrong) {
  SeededRandom random(3);
  for (const char* bad :
       {"kind: Other\n", "kind: EncryptionConfiguration\nresources: 5\n",
        "kind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - "
        "kms: {}\n",
        "kind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - "
        "aesgcm:\n      keys:\n      - {name: k, secret: c2hvcnQ=}\n"}) {
    EXPECT_FALSE(EncryptionAtRest::Parse(bad, random).ok()) << bad;
  }
}

}  // namespace
}  // namespace stash::api
