#include "stash/core/base64.h"

#include <gtest/gtest.h>

#include <random>

#include "stash/core/testing.h"

namespace stash {
namespace {

TEST(Base64Test, EncodesTheRfc4648Vectors) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* std_text[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  const char* raw_text[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (size_t i = 0; i < std::size(plain); ++i) {
    EXPECT_EQ(Base64Encode(std::string_view(plain[i])), std_text[i]);
    EXPECT_EQ(Base64Encode(std::string_view(plain[i]), Base64Encoding::kRawStd), raw_text[i]);
    auto back = Base64Decode(std_text[i]);
    ASSERT_OK(back);
    EXPECT_EQ(*back, plain[i]);
    auto raw_back = Base64Decode(raw_text[i], Base64Encoding::kRawStd);
    ASSERT_OK(raw_back);
    EXPECT_EQ(*raw_back, plain[i]);
  }
}

TEST(Base64Test, UrlAlphabetUsesDashAndUnderscore) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64Encode(bytes, Base64Encoding::kUrl), "-_-_");
  EXPECT_EQ(Base64Encode(std::string_view("\xfb\xff", 2), Base64Encoding::kRawUrl), "-_8");
  auto url = Base64Decode("-_-_", Base64Encoding::kUrl);
  ASSERT_OK(url);
  EXPECT_EQ(*url, bytes);
  // Each alphabet rejects the other's two symbols.
  EXPECT_FALSE(Base64Decode("-_-_").ok());
  EXPECT_FALSE(Base64Decode("+/+/", Base64Encoding::kUrl).ok());
}

TEST(Base64Test, RoundTripsEveryByteValueAndLength) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 70; ++n) {
    std::vector<uint8_t> data(n);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    for (auto e : {Base64Encoding::kStd, Base64Encoding::kRawStd, Base64Encoding::kUrl,
                   Base64Encoding::kRawUrl}) {
      auto back = Base64Decode(Base64Encode(data, e), e);
      ASSERT_OK(back);
      EXPECT_EQ(std::vector<uint8_t>(back->begin(), back->end()), data);
    }
  }
}

TEST(Base64Test, SkipsLineBreaksLikeGo) {
  auto wrapped = Base64Decode("Zm9v\r\nYmFy\n");
  ASSERT_OK(wrapped);
  EXPECT_EQ(*wrapped, "foobar");
  auto in_padding = Base64Decode("Zg=\n=");
  ASSERT_OK(in_padding);
  EXPECT_EQ(*in_padding, "f");
}

TEST(Base64Test, StrictDecodingRejectsWhatGoRejectsAndSaysWhere) {
  struct Case {
    const char* text;
    size_t offset;
  };
  for (Case c : {Case{"Zm9v YmFy", 4},                      // a space is not skipped
                 Case{"Zm9v!", 4},                          // outside the alphabet
                 Case{"Zg", 2},                             // padding missing
                 Case{"Zg=", 3},                            // padding short
                 Case{"Zm8=v", 4},                          // data after padding
                 Case{"Zm9vYmFy====", 8}, Case{"Z", 1}}) {  // a lone sextet is no byte
    auto r = Base64Decode(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalid) << c.text;
    EXPECT_EQ(r.status().message(), "illegal base64 data at input byte " + std::to_string(c.offset))
        << c.text;
  }
  // Bits after the last byte must be zero ("Zh==" would also decode to "f").
  EXPECT_FALSE(Base64Decode("Zh==").ok());
  EXPECT_FALSE(Base64Decode(std::string_view("Zm9v\0", 5)).ok());
  // Raw encodings take no padding at all.
  EXPECT_FALSE(Base64Decode("Zg==", Base64Encoding::kRawStd).ok());
}

}  // namespace
}  // namespace stash
