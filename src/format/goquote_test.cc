#include "stash/format/goquote.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::format {
namespace {

TEST(GoQuoteTest, VerifiedResticNameExamples) {
  // restic-format.md §5.4: the inner strconv.Quote part of each verified name.
  EXPECT_EQ(GoQuote("we\"ird\\name \xc3\xa9"), "we\\\"ird\\\\name \xc3\xa9");
  EXPECT_EQ(GoQuote("inv\xffx"), "inv\\xffx");
  EXPECT_EQ(GoQuote("ls\xe2\x80\xa8x"), "ls\\u2028x");
  EXPECT_EQ(GoQuote("tab\tx"), "tab\\tx");
}

TEST(GoQuoteTest, ShortAndHexEscapes) {
  EXPECT_EQ(GoQuote(std::string("\a\b\f\n\r\t\v", 7)), "\\a\\b\\f\\n\\r\\t\\v");
  EXPECT_EQ(GoQuote(std::string("\x00\x01\x1f\x7f", 4)), "\\x00\\x01\\x1f\\x7f");
  // Surrogates and overlong forms are invalid UTF-8: one \x per byte.
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(GoQuote("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(GoQuote("\xe2\x82"), "\\xe2\\x82");  // truncated sequence
}

TEST(GoQuoteTest, NonPrintableRunesUseUnicodeEscapes) {
  EXPECT_EQ(GoQuote("\xc2\xa0"), "\\u00a0");                   // NO-BREAK SPACE (Zs)
  EXPECT_EQ(GoQuote("\xc2\xad"), "\\u00ad");                   // SOFT HYPHEN (Cf)
  EXPECT_EQ(GoQuote("\xe2\x80\x8b"), "\\u200b");               // ZERO WIDTH SPACE (Cf)
  EXPECT_EQ(GoQuote("\xef\xbb\xbf"), "\\ufeff");               // BOM (Cf)
  EXPECT_EQ(GoQuote("\xf3\xa0\x80\x81"), "\\U000e0001");       // LANGUAGE TAG (Cf)
  EXPECT_EQ(GoQuote("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");  // emoji: printable
  EXPECT_EQ(GoQuote("\xef\xbf\xbd"), "\xef\xbf\xbd");          // a real U+FFFD is printable
  EXPECT_EQ(GoQuote("\xe4\xb8\xad\xe6\x96\x87"), "\xe4\xb8\xad\xe6\x96\x87");
}

TEST(GoQuoteTest, UsesGo119UnicodeTables) {
  // U+1FAE0 (MELTING FACE) and U+061D arrived in Unicode 14; go1.19 knows 13.
  EXPECT_FALSE(GoIsPrint(0x1FAE0));
  EXPECT_EQ(GoQuote("\xf0\x9f\xab\xa0"), "\\U0001fae0");
  EXPECT_FALSE(GoIsPrint(0x061D));
  EXPECT_TRUE(GoIsPrint(0x1FAD6));  // TEAPOT, Unicode 13
  EXPECT_TRUE(GoIsPrint(' '));
  EXPECT_FALSE(GoIsPrint(0x3000));  // IDEOGRAPHIC SPACE
  EXPECT_FALSE(GoIsPrint(0xE000));  // private use
  EXPECT_FALSE(GoIsPrint(0x10FFFF));
}

TEST(GoQuoteTest, ValidUtf8MatchesGo) {
  EXPECT_TRUE(GoValidUtf8("plain \xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd"));
  EXPECT_FALSE(GoValidUtf8("\xff"));
  EXPECT_FALSE(GoValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(GoValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(GoValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(GoValidUtf8("ok\xc3"));            // truncated
}

TEST(GoQuoteTest, UnquoteInvertsQuoteForArbitraryBytes) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  all += "\xe2\x80\xa8\xf0\x9f\x98\x80\xf3\xa0\x80\x81\xc3\xa9";
  auto back = GoUnquote(GoQuote(all));
  ASSERT_OK(back);
  EXPECT_EQ(*back, all);
}

TEST(GoQuoteTest, UnquoteAcceptsAllGoEscapes) {
  auto r = GoUnquote("\\101\\x42\\u0043\\U00000044\\'x");
  EXPECT_FALSE(r.ok());  // \' is not valid inside a double-quoted string
  r = GoUnquote("\\101\\x42\\u0043\\U00000044\\\"\\\\");
  ASSERT_OK(r);
  EXPECT_EQ(*r, "ABCD\"\\");
  r = GoUnquote("\\xff\\u00ff");
  ASSERT_OK(r);
  EXPECT_EQ(*r, "\xff\xc3\xbf");  // \x is a byte, \u a rune
}

TEST(GoQuoteTest, UnquoteRejectsMalformedInput) {
  for (std::string_view bad : {"a\"b", "a\nb", "tail\\", "\\q", "\\x4", "\\xZZ", "\\ud800",
                               "\\U00110000", "\\400", "\\12"}) {
    auto r = GoUnquote(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalid) << bad;
  }
}

}  // namespace
}  // namespace stash::format
