#include "stash/format/base64.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::format {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"},
                                                                   {"\xff\xfe\xfd", "//79"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto back = Base64DecodeToString(encoded);
    ASSERT_OK(back) << encoded;
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64Test, SkipsNewlinesLikeGo) {
  auto r = Base64DecodeToString("Zm9v\r\nYmFy\n");
  ASSERT_OK(r);
  EXPECT_EQ(*r, "foobar");
}

TEST(Base64Test, RejectsMalformedInput) {
  for (std::string_view bad : {"Zg", "Zg=", "Z===", "Zm9v=", "Zg==Zg==", "Zm9-", "Zm 9v", "Zg=a"}) {
    EXPECT_EQ(Base64Decode(bad).status().code(), Code::kInvalid) << bad;
  }
}

}  // namespace
}  // namespace stash::format
