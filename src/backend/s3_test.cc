#include "stash/backend/s3.h"

#include <gtest/gtest.h>

#include "sigv4.h"
#include "xml.h"

namespace stash::backend {
namespace {

// AWS's published example credentials and requests (S3 API reference,
// "Authenticating Requests: Using the Authorization Header").
const SigV4Key kExampleKey{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                           "us-east-1"};
const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4, MatchesAwsGetObjectExample) {
  SigV4Request r{"GET",
                 "/test.txt",
                 {},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"Range", "bytes=0-9"},
                  {"x-amz-content-sha256", kEmpty},
                  {"x-amz-date", "20130524T000000Z"}},
                 kEmpty};
  EXPECT_EQ(SignV4(r, kExampleKey, "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, MatchesAwsListObjectsExample) {
  SigV4Request r{"GET",
                 "/",
                 {{"prefix", "J"}, {"max-keys", "2"}},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"x-amz-content-sha256", kEmpty},
                  {"x-amz-date", "20130524T000000Z"}},
                 kEmpty};
  std::string auth = SignV4(r, kExampleKey, "20130524T000000Z");
  EXPECT_NE(auth.find("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            std::string::npos)
      << auth;
}

TEST(SigV4, MatchesAwsPutObjectExample) {
  SigV4Request r{"PUT",
                 "/test%24file.text",
                 {},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                  {"x-amz-date", "20130524T000000Z"},
                  {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                  {"x-amz-content-sha256",
                   "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}},
                 "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"};
  std::string auth = SignV4(r, kExampleKey, "20130524T000000Z");
  EXPECT_NE(auth.find("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
            std::string::npos)
      << auth;
}

TEST(S3Backend, AddressesPathStyleForIpsAndVirtualHostForAws) {
  ManualClock clock;
  S3Config local;
  local.endpoint = *ParseUrl("http://127.0.0.1:9000");
  local.bucket = "b";
  local.prefix = "/team/repo/";
  S3Backend path_style(local, clock);
  EXPECT_FALSE(path_style.virtual_host());
  EXPECT_EQ(path_style.Key(Handle{FileType::kPack, "abcd"}), "team/repo/data/ab/abcd");
  EXPECT_EQ(path_style.UrlFor("team/repo/config"), "http://127.0.0.1:9000/b/team/repo/config");
  EXPECT_EQ(path_style.Location(), "s3:127.0.0.1:9000/b/team/repo");

  S3Config aws = local;
  aws.endpoint = *ParseUrl("https://s3.eu-west-1.amazonaws.com");
  S3Backend vhost(aws, clock);
  EXPECT_TRUE(vhost.virtual_host());
  EXPECT_EQ(vhost.UrlFor("team/repo/config"),
            "https://b.s3.eu-west-1.amazonaws.com/team/repo/config");
  aws.lookup = BucketLookup::kPath;
  EXPECT_FALSE(S3Backend(aws, clock).virtual_host());
}

TEST(Xml, ExtractsListingEntries) {
  std::string body =
      "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/data/ab/a&amp;b</Key>"
      "<Size>12</Size></Contents><Contents><Key>p/x</Key><Size>3</Size></Contents>"
      "<NextContinuationToken>tok/=</NextContinuationToken></ListBucketResult>";
  auto items = XmlElements(body, "Contents");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(XmlText(items[0], "Key"), "p/data/ab/a&b");
  EXPECT_EQ(XmlText(body, "NextContinuationToken"), "tok/=");
  EXPECT_EQ(XmlText(body, "Missing"), "");
}

}  // namespace
}  // namespace stash::backend
