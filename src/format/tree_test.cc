#include "stash/format/tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "stash/core/testing.h"

namespace stash::format {
namespace {

Id IdOf(char c) { return *Id::FromHex(std::string(64, c)); }

Timestamp T(std::string_view s) { return *ParseRfc3339(s); }

Node BigBin() {
  // The file node restic 0.14 wrote in restic-format.md §5.3.
  Node n;
  n.name = "big.bin";
  n.type = NodeType::kFile;
  n.mode = 420;
  n.mtime = n.atime = n.ctime = T("2026-11-26T06:18:20.156343179Z");
  n.user = n.group = "root";
  n.inode = 10954481;
  n.device_id = 65024;
  n.size = 3000000;
  n.links = 1;
  n.content = std::vector<Id>{IdOf('a'), IdOf('b')};
  return n;
}

TEST(TreeTest, FileNodeMatchesResticBytes) {
  const std::string t = "\"2026-11-26T06:18:20.156343179Z\"";
  EXPECT_EQ(EncodeNode(BigBin()),
            "{\"name\":\"big.bin\",\"type\":\"file\",\"mode\":420,\"mtime\":" + t +
                ",\"atime\":" + t + ",\"ctime\":" + t +
                ",\"uid\":0,\"gid\":0,\"user\":\"root\",\"group\":\"root\",\"inode\":10954481,"
                "\"device_id\":65024,\"size\":3000000,\"links\":1,\"content\":[\"" +
                std::string(64, 'a') + "\",\"" + std::string(64, 'b') + "\"]}");
}

TEST(TreeTest, DirNodeHasNullContentAndSubtree) {
  Node n;
  n.name = "sub";
  n.type = NodeType::kDir;
  n.mode = 2155872749u;  // setuid dir 4755, verified
  n.mtime = n.atime = n.ctime = T("2001-02-03T04:05:06.5+01:00");
  n.device_id = 65024;
  n.subtree = IdOf('0');
  const std::string t = "\"2001-02-03T04:05:06.5+01:00\"";
  EXPECT_EQ(EncodeNode(n), "{\"name\":\"sub\",\"type\":\"dir\",\"mode\":2155872749,\"mtime\":" + t +
                               ",\"atime\":" + t + ",\"ctime\":" + t +
                               ",\"uid\":0,\"gid\":0,\"device_id\":65024,\"content\":null,"
                               "\"subtree\":\"" +
                               std::string(64, '0') + "\"}");
}

TEST(TreeTest, EmptyFileHasEmptyContentArrayAndNoSize) {
  Node n;
  n.name = "empty";
  n.content = std::vector<Id>{};
  const std::string json = EncodeNode(n);
  EXPECT_NE(json.find("\"content\":[]"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"size\""), std::string::npos) << json;
  EXPECT_EQ(json.find("\"mode\""), std::string::npos) << json;
}

TEST(TreeTest, NamesAreQuotedThenJsonEscaped) {
  // restic-format.md §5.4 verified name encodings, as they appear in JSON.
  const std::pair<std::string, std::string> cases[] = {
      {"we\"ird\\name \xc3\xa9", R"("we\\\"ird\\\\name é")"},
      {"inv\xffx", R"("inv\\xffx")"},
      {"ls\xe2\x80\xa8x", R"("ls\\u2028x")"},
      {"tab\tx", R"("tab\\tx")"},
      {"a<b&c>", R"("a\u003cb\u0026c\u003e")"},
  };
  for (const auto& [raw, json] : cases) {
    Node n;
    n.name = raw;
    const std::string enc = EncodeNode(n);
    EXPECT_EQ(enc.substr(8, json.size()), json) << enc;
    auto back = DecodeTree("{\"nodes\":[" + enc + "]}");
    ASSERT_OK(back);
    EXPECT_EQ(back->at(0).name, raw);
  }
}

TEST(TreeTest, SymlinkWithInvalidUtf8TargetKeepsRawBytes) {
  Node n;
  n.name = "link";
  n.type = NodeType::kSymlink;
  n.linktarget = "tar\xffget";
  const std::string enc = EncodeNode(n);
  EXPECT_NE(enc.find("\"linktarget\":\"tar\\ufffdget\",\"linktarget_raw\":\"dGFy/2dldA==\""),
            std::string::npos)
      << enc;
  auto back = DecodeTree("{\"nodes\":[" + enc + "]}");
  ASSERT_OK(back);
  EXPECT_EQ(back->at(0).linktarget, "tar\xffget");
}

TEST(TreeTest, TreeRoundTripsEveryField) {
  Node file = BigBin();
  file.extended_attributes = {
      {"user.k", std::string("v\0x", 3)}, {"user.empty", ""}, {"user.gone", "", true}};
  file.error = "lstat failed";
  Node dev;
  dev.name = "dev";
  dev.type = NodeType::kCharDev;
  dev.mode = GoModeFromStat(S_IFCHR | 0620);
  dev.device = 0x0501;
  dev.links = 1;
  dev.uid = 1000;
  dev.gid = 5;
  std::vector<Node> nodes = {file, dev};
  SortNodes(&nodes);
  auto enc = EncodeTree(nodes);
  ASSERT_OK(enc);
  EXPECT_EQ(enc->substr(0, 11), "{\"nodes\":[{");
  EXPECT_EQ(enc->substr(enc->size() - 3), "]}\n");
  EXPECT_NE(enc->find("{\"name\":\"user.empty\",\"value\":\"\"}"), std::string::npos);
  EXPECT_NE(enc->find("{\"name\":\"user.gone\",\"value\":null}"), std::string::npos);
  auto back = DecodeTree(*enc);
  ASSERT_OK(back);
  EXPECT_EQ(*back, nodes);
  EXPECT_EQ(*EncodeTree(*back), *enc);
}

TEST(TreeTest, EmptyTree) {
  EXPECT_EQ(*EncodeTree({}), "{\"nodes\":[]}\n");
  auto back = DecodeTree("{\"nodes\":null}");
  ASSERT_OK(back);
  EXPECT_TRUE(back->empty());
}

TEST(TreeTest, RejectsUnsortedOrDuplicateNames) {
  Node a, b;
  a.name = "a";
  b.name = "\xc3\xa9";  // raw bytes sort after ASCII
  EXPECT_OK(EncodeTree({a, b}));
  EXPECT_EQ(EncodeTree({b, a}).status().code(), Code::kInvalid);
  EXPECT_EQ(EncodeTree({a, a}).status().code(), Code::kInvalid);
}

TEST(TreeTest, DecodeIgnoresUnknownKeysAndRejectsBadInput) {
  auto ok = DecodeTree(
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"generic_attributes\":{\"a\":1},"
      "\"mtime\":\"2001-02-03T04:05:06Z\",\"content\":[]}],\"future\":true}");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->at(0).mtime.unix_sec, 981173106);
  const std::string_view bad[] = {
      "",
      "{",
      "[]",
      "{\"nodes\":{}}",
      "{\"nodes\":[1]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"weird\"}]}",
      "{\"nodes\":[{\"name\":\"x\\\\q\",\"type\":\"file\"}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"uid\":-1}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"uid\":4294967296}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"mtime\":\"yesterday\"}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"content\":[\"abc\"]}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"dir\",\"subtree\":7}]}",
  };
  for (std::string_view json : bad) {
    EXPECT_EQ(DecodeTree(json).status().code(), Code::kInvalid) << json;
  }
}

TEST(NodeTest, GoModeMatchesVerifiedValues) {
  EXPECT_EQ(GoModeFromStat(S_IFREG | 0644), 420u);
  EXPECT_EQ(GoModeFromStat(S_IFDIR | 0755), 2147484141u);
  EXPECT_EQ(GoModeFromStat(S_IFDIR | 04755), 2155872749u);
  EXPECT_EQ(GoModeFromStat(S_IFLNK | 0777), 134218239u);
  EXPECT_EQ(GoModeFromStat(S_IFIFO | 0644), 33554852u);
  EXPECT_EQ(GoModeFromStat(S_IFCHR | 0600), kGoModeDevice | kGoModeCharDevice | 0600);
  EXPECT_EQ(GoModeFromStat(S_IFBLK | 0600), kGoModeDevice | 0600);
  EXPECT_EQ(GoModeFromStat(S_IFDIR | 01777), kGoModeDir | kGoModeSticky | 0777);
  EXPECT_EQ(GoModeFromStat(S_IFREG | 02755), kGoModeSetgid | 0755);
  for (mode_t m : {S_IFREG | 0644, S_IFDIR | 04755, S_IFLNK | 0777, S_IFIFO | 0600, S_IFCHR | 0620,
                   S_IFBLK | 0660, S_IFSOCK | 0755, S_IFDIR | 03777}) {
    EXPECT_EQ(StatModeFromGo(GoModeFromStat(m)), m) << std::oct << m;
  }
  EXPECT_EQ(NodeTypeFromGoMode(GoModeFromStat(S_IFCHR | 0600)), NodeType::kCharDev);
  EXPECT_EQ(NodeTypeFromGoMode(GoModeFromStat(S_IFBLK | 0600)), NodeType::kDev);
  EXPECT_EQ(NodeTypeFromGoMode(420), NodeType::kFile);
}

}  // namespace
}  // namespace stash::format

namespace stash::format {
namespace {

TEST(TreeDecodeTest, FollowsGoJsonDecodingRules) {
  // Escapes Go's encoder never writes but its decoder accepts; a surrogate
  // pair; lone surrogates and invalid bytes become U+FFFD; unknown keys with
  // nested values are skipped; null leaves a field at its zero value.
  auto nodes = DecodeTree(
      " {\"x\":[1,-2.5e3,{\"y\":[true,false,null]},\"s\"],\"nodes\":[ {\"name\":\"a\\/b\\u00e9\","
      "\"type\":\"symlink\",\"linktarget\":\"\\ud83d\\ude00|\\ud800|\\udc00|\xff\",\"user\":null,"
      "\"content\":null,\"extended_attributes\":[{\"name\":\"k\",\"value\":null,\"z\":{}}]} ]}\n");
  ASSERT_OK(nodes);
  ASSERT_EQ(nodes->size(), 1u);
  const Node& n = nodes->at(0);
  EXPECT_EQ(n.name, "a/b\xc3\xa9");
  EXPECT_EQ(n.linktarget, "\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd");
  EXPECT_EQ(n.user, "");
  EXPECT_FALSE(n.content.has_value());
  ASSERT_EQ(n.extended_attributes.size(), 1u);
  EXPECT_EQ(n.extended_attributes[0].value, "");
  EXPECT_TRUE(n.extended_attributes[0].null_value);
}

TEST(TreeDecodeTest, RejectsWhatGoRejects) {
  const std::string_view bad[] = {
      "{\"nodes\":[]} x",                                               // trailing data
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"size\":1.5}]}",  // not an integer
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"size\":1e3}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"size\":18446744073709551616}]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"size\":01}]}",
      "{\"nodes\":[{\"name\":\"a\tb\",\"type\":\"file\"}]}",  // raw control char
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\"},]}",    // trailing comma
      "{\"nodes\":[{\"name\":\"x\" \"type\":\"file\"}]}",     // missing comma
      "{\"nodes\":[null]}",
      "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"linktarget_raw\":\"!!\"}]}",
  };
  for (std::string_view json : bad) {
    auto r = DecodeTree(json);
    EXPECT_EQ(r.status().code(), Code::kInvalid) << json;
  }
  std::string deep(1000, '[');
  EXPECT_EQ(DecodeTree("{\"x\":" + deep + "}").status().code(), Code::kInvalid);
}

TEST(TreeDecodeTest, ErrorsNameTheNode) {
  auto r = DecodeTree(
      "{\"nodes\":[{\"name\":\"ok\",\"type\":\"file\"},{\"name\":\"bad\\\\x01\",\"type\":\"file\","
      "\"mtime\":\"yesterday\"}]}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad\\x01"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("mtime"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace stash::format
