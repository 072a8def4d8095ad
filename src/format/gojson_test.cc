#include "stash/format/gojson.h"

#include <gtest/gtest.h>

namespace stash::format {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendGoJsonString(&out, s);
  return out;
}

TEST(GoJsonTest, EscapesLikeGo119) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quoted("\n\r\t"), "\"\\n\\r\\t\"");
  // go1.19 has no short forms for \b and \f.
  EXPECT_EQ(Quoted(std::string("\b\f\x00\x1f", 4)), "\"\\u0008\\u000c\\u0000\\u001f\"");
  // HTML escaping, verified on a restic 0.14 file name `a<b&c>`.
  EXPECT_EQ(Quoted("a<b&c>"), "\"a\\u003cb\\u0026c\\u003e\"");
  EXPECT_EQ(Quoted("x\xe2\x80\xa8y\xe2\x80\xa9"), "\"x\\u2028y\\u2029\"");
  EXPECT_EQ(Quoted("bad\xff\xc0"), "\"bad\\ufffd\\ufffd\"");
  EXPECT_EQ(Quoted("\x7f\xc3\xa9\xf0\x9f\x98\x80"), "\"\x7f\xc3\xa9\xf0\x9f\x98\x80\"");
}

TEST(GoJsonTest, FloatsAsGoWritesThem) {
  auto f = [](double v) {
    std::string out;
    AppendGoJsonFloat(&out, v);
    return out;
  };
  EXPECT_EQ(f(0), "0");
  EXPECT_EQ(f(0.3), "0.3");
  EXPECT_EQ(f(12.5), "12.5");
  EXPECT_EQ(f(1e-6), "0.000001");
  EXPECT_EQ(f(1e-7), "1e-7");
  EXPECT_EQ(f(2.5e-10), "2.5e-10");
  EXPECT_EQ(f(1e21), "1e+21");
  EXPECT_EQ(f(-3.25), "-3.25");
  GoJsonWriter w;
  w.BeginObject();
  w.FloatField("total_duration", 1.5);
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"total_duration":1.5})");
}

TEST(GoJsonTest, WriterPlacesCommasAndColons) {
  GoJsonWriter w;
  w.BeginObject();
  w.Key("a");
  w.Uint(18446744073709551615u);
  w.Key("b");
  w.BeginArray();
  w.Int(-5);
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.Key("c");
  w.Raw("{\"x\":1}");
  w.Key("d");
  w.String("<");
  w.EndObject();
  EXPECT_EQ(w.str(),
            "{\"a\":18446744073709551615,\"b\":[-5,true,null,{},[]],\"c\":{\"x\":1},"
            "\"d\":\"\\u003c\"}");
}

}  // namespace
}  // namespace stash::format
