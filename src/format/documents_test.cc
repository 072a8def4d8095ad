// Snapshot, index, config, key file, master key and lock documents: golden
// bytes written by restic 0.14, round trips and malformed input.
#include <gtest/gtest.h>

#include "stash/core/testing.h"
#include "stash/format/config.h"
#include "stash/format/index.h"
#include "stash/format/keyfile.h"
#include "stash/format/lock.h"
#include "stash/format/snapshot.h"
#include "stash/format/unpacked.h"

namespace stash::format {
namespace {

Id IdOf(char c) { return *Id::FromHex(std::string(64, c)); }

TEST(SnapshotTest, MatchesResticFieldOrderAndOmitempty) {
  // Shape written by restic 0.14 (restic-format.md §5.6).
  const std::string golden = "{\"time\":\"2026-11-26T06:18:20.160343179Z\",\"tree\":\"" +
                             std::string(64, 'b') +
                             "\",\"paths\":[\"/srv/rt/src\"],\"hostname\":\"h1\",\"username\":"
                             "\"root\",\"tags\":[\"t1\"]}";
  auto s = DecodeSnapshot(golden);
  ASSERT_OK(s);
  EXPECT_EQ(s->tree, IdOf('b'));
  EXPECT_EQ(s->paths, std::vector<std::string>{"/srv/rt/src"});
  EXPECT_EQ(s->tags, std::vector<std::string>{"t1"});
  EXPECT_FALSE(s->parent.has_value());
  EXPECT_EQ(EncodeSnapshot(*s), golden);
}

TEST(SnapshotTest, AllFieldsRoundTrip) {
  Snapshot s;
  s.time = {981169506, 500000000, 3600};
  s.parent = IdOf('1');
  s.tree = IdOf('2');
  s.paths = {"/data", "/srv/<x>"};
  s.hostname = "host";
  s.username = "user";
  s.uid = 1000;
  s.gid = 100;
  s.excludes = {"*.tmp"};
  s.tags = {"a", "b"};
  s.original = IdOf('3');
  s.program_version = "restic 0.17.0";
  s.summary = SnapshotSummary{{1, 0, 0}, {2, 5, 0}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::string json = EncodeSnapshot(s);
  EXPECT_EQ(json.substr(0, 48), "{\"time\":\"2001-02-03T04:05:06.5+01:00\",\"parent\":\"");
  EXPECT_NE(json.find("\"/srv/\\u003cx\\u003e\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"original\":\"" + std::string(64, '3') +
                      "\",\"program_version\":\"restic 0.17.0\",\"summary\":{\"backup_start\":"
                      "\"1970-01-01T00:00:01Z\",\"backup_end\":\"1970-01-01T00:00:02.000000005Z\""
                      ",\"files_new\":1,"),
            std::string::npos)
      << json;
  auto back = DecodeSnapshot(json);
  ASSERT_OK(back);
  EXPECT_EQ(*back, s);
}

TEST(SnapshotTest, RejectsMissingTreeAndBadFields) {
  EXPECT_EQ(DecodeSnapshot("{\"time\":\"2001-02-03T04:05:06Z\"}").status().code(), Code::kInvalid);
  EXPECT_EQ(DecodeSnapshot("{\"tree\":\"" + std::string(64, 'a') + "\",\"paths\":\"/x\"}")
                .status()
                .code(),
            Code::kInvalid);
  EXPECT_EQ(DecodeSnapshot("not json").status().code(), Code::kInvalid);
}

TEST(IndexTest, ResticWrittenIndexIsByteIdentical) {
  // Written by restic 0.14 (json.Encoder: compact plus newline); blobs are
  // not sorted by offset inside a pack.
  const std::string golden =
      "{\"packs\":[{\"id\":\"ef12c09bd39adf40c1457af04836ac8ebea928efc76cac8b7d016212c46d4bba\","
      "\"blobs\":[{\"id\":\"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4\","
      "\"type\":\"data\",\"offset\":0,\"length\":44,\"uncompressed_length\":3}]},{\"id\":"
      "\"b27cf15e237c48d8a7d3abdde122128f4179e95b632ac426e7b6012ebb03e7d5\",\"blobs\":[{\"id\":"
      "\"ab343931dba477426f4edc7c2bcfb62dbd781a1782205331e52f926d0b188034\",\"type\":\"tree\","
      "\"offset\":250,\"length\":250,\"uncompressed_length\":353},{\"id\":"
      "\"75f9b3f43f66c573af4ca1e5b0fd7e1cf68a9e690629ad19b6b9a9a6aa82ac46\",\"type\":\"tree\","
      "\"offset\":0,\"length\":250,\"uncompressed_length\":351}]}]}\n";
  auto index = DecodeIndex(golden);
  ASSERT_OK(index);
  ASSERT_EQ(index->packs.size(), 2u);
  EXPECT_EQ(index->packs[1].blobs[0].type, BlobType::kTree);
  EXPECT_EQ(index->packs[1].blobs[0].offset, 250u);
  EXPECT_TRUE(index->packs[0].blobs[0].compressed());
  EXPECT_EQ(EncodeIndex(*index), golden);
}

TEST(IndexTest, SupersedesAndUncompressedBlobs) {
  IndexFile index;
  index.supersedes = {IdOf('c')};
  index.packs.push_back({IdOf('d'), {{IdOf('e'), BlobType::kData, 0, 100, 0}}});
  const std::string json = EncodeIndex(index);
  EXPECT_EQ(json, "{\"supersedes\":[\"" + std::string(64, 'c') + "\"],\"packs\":[{\"id\":\"" +
                      std::string(64, 'd') + "\",\"blobs\":[{\"id\":\"" + std::string(64, 'e') +
                      "\",\"type\":\"data\",\"offset\":0,\"length\":100}]}]}\n");
  auto back = DecodeIndex(json);
  ASSERT_OK(back);
  EXPECT_EQ(*back, index);
  EXPECT_EQ(EncodeIndex({}), "{\"packs\":[]}\n");
}

TEST(IndexTest, RejectsLegacyAndMalformed) {
  EXPECT_EQ(DecodeIndex("[{\"id\":\"x\"}]").status().code(), Code::kUnsupported);
  const std::string id = "\"" + std::string(64, 'a') + "\"";
  for (const std::string& bad :
       {std::string("{\"packs\":[{\"blobs\":[]}]}"),
        "{\"packs\":[{\"id\":" + id + ",\"blobs\":[{\"id\":" + id + ",\"type\":\"meta\"}]}]}",
        "{\"packs\":[{\"id\":" + id + ",\"blobs\":[{\"id\":" + id +
            ",\"type\":\"data\",\"offset\":-1}]}]}",
        "{\"packs\":[{\"id\":" + id + ",\"blobs\":[{\"id\":" + id +
            ",\"type\":\"data\",\"length\":4294967296}]}]}",
        std::string("{\"packs\":7}")}) {
    EXPECT_EQ(DecodeIndex(bad).status().code(), Code::kInvalid) << bad;
  }
}

TEST(ConfigTest, GoldenAndErrors) {
  const std::string golden =
      "{\"version\":2,\"id\":\"e4a5d984648adf6d73e8eb041e4d2de388b5e4d02ed54cc162b0b93a490b3a21\","
      "\"chunker_polynomial\":\"29b4f0ad1bdd3d\"}";
  auto c = DecodeConfig(golden);
  ASSERT_OK(c);
  EXPECT_EQ(c->chunker_polynomial, 0x29b4f0ad1bdd3dull);
  EXPECT_EQ(EncodeConfig(*c), golden);
  // Indented as `restic cat config` prints it, plus a rustic extra key.
  auto pretty = DecodeConfig(
      "{\n  \"version\": 1,\n  \"id\": \"ab\",\n  \"chunker_polynomial\": "
      "\"3DA3358B4DC173\",\n  \"compression\": 3\n}");
  ASSERT_OK(pretty);
  EXPECT_EQ(pretty->chunker_polynomial, 0x3DA3358B4DC173ull);
  EXPECT_EQ(
      DecodeConfig("{\"version\":3,\"id\":\"ab\",\"chunker_polynomial\":\"1\"}").status().code(),
      Code::kUnsupported);
  EXPECT_EQ(
      DecodeConfig("{\"version\":2,\"id\":\"ab\",\"chunker_polynomial\":\"0x1\"}").status().code(),
      Code::kInvalid);
  EXPECT_EQ(DecodeConfig("{\"version\":2,\"chunker_polynomial\":\"1\"}").status().code(),
            Code::kInvalid);
}

TEST(KeyFileTest, ResticWrittenKeyIsByteIdentical) {
  const std::string golden =
      "{\"created\":\"2026-11-26T07:26:47.531405684Z\",\"username\":\"root\",\"hostname\":\"vm\","
      "\"kdf\":\"scrypt\",\"N\":32768,\"r\":8,\"p\":2,\"salt\":\"aOctKA3xsZWqdnlTvm2nniVdH+"
      "PLhVAn8W25GL+FfeeX3i+Wgnx/AUqVpr7Lhm2YpzpWzfkaeG8zMKBx8iEUDw==\",\"data\":\"bs8aWz/"
      "ZRs1s8IibGFe6TywDuYE/0PCAZ2aq0PEPrZb4QTMWeg9ljDjgThP9gqE2TQyC6M1JKhi3GXIH+"
      "EX9rA3jmYQ469YM4VIEE1ZDFzucQpZqSJI9k2+G9hdRbH+MOQm/H0xWPzY0IjR0zkh98rdRY29hyqlHoEsRE98i+"
      "udDsE0xKJiHbQvGyzjDSYpy3AE41luUycxsQbZ1L1sVWQ==\"}";
  auto key = DecodeKeyFile(golden);
  ASSERT_OK(key);
  EXPECT_EQ(key->n, 32768);
  EXPECT_EQ(key->salt.size(), 64u);
  // IV + MAC around the 128-byte compact master key JSON.
  EXPECT_EQ(key->data.size(), 32u + 128u);
  EXPECT_EQ(EncodeKeyFile(*key), golden);
}

TEST(KeyFileTest, RejectsOtherKdfsAndBadParameters) {
  const std::string tail = ",\"N\":2,\"r\":1,\"p\":1,\"salt\":\"AA==\",\"data\":\"AA==\"}";
  EXPECT_OK(DecodeKeyFile("{\"kdf\":\"scrypt\"" + tail));
  EXPECT_EQ(DecodeKeyFile("{\"kdf\":\"argon2\"" + tail).status().code(), Code::kUnsupported);
  EXPECT_EQ(DecodeKeyFile("{\"kdf\":\"scrypt\",\"N\":0,\"r\":1,\"p\":1,\"salt\":\"AA==\","
                          "\"data\":\"AA==\"}")
                .status()
                .code(),
            Code::kInvalid);
  EXPECT_EQ(DecodeKeyFile("{\"kdf\":\"scrypt\",\"N\":2,\"r\":1,\"p\":1,\"salt\":\"A\","
                          "\"data\":\"AA==\"}")
                .status()
                .code(),
            Code::kInvalid);
}

TEST(MasterKeyTest, GoldenAndLengthChecks) {
  // `restic cat masterkey` output (indented); we write it compact.
  const std::string pretty =
      "{\n  \"mac\": {\n    \"k\": \"PjPNDetH09hkW7xOSw6lsg==\",\n    \"r\": "
      "\"WilRDWgs1AkYS7QONK+zCg==\"\n  },\n  \"encrypt\": "
      "\"KaQKMf4VZa+DEmSGWbWs44fuaIlH9yzmz9svO/3CvoI=\"\n}";
  auto key = DecodeMasterKey(pretty);
  ASSERT_OK(key);
  EXPECT_EQ(key->mac_k[0], 0x3e);
  EXPECT_EQ(EncodeMasterKey(*key),
            "{\"mac\":{\"k\":\"PjPNDetH09hkW7xOSw6lsg==\",\"r\":\"WilRDWgs1AkYS7QONK+zCg==\"},"
            "\"encrypt\":\"KaQKMf4VZa+DEmSGWbWs44fuaIlH9yzmz9svO/3CvoI=\"}");
  EXPECT_EQ(DecodeMasterKey("{\"mac\":{\"k\":\"AA==\",\"r\":\"AA==\"},\"encrypt\":\"AA==\"}")
                .status()
                .code(),
            Code::kInvalid);
  EXPECT_EQ(DecodeMasterKey("{\"encrypt\":\"AA==\"}").status().code(), Code::kInvalid);
}

TEST(LockTest, RoundTripAndOmitempty) {
  Lock lock;
  lock.time = {1795674700, 160343179, 0};
  lock.exclusive = true;
  lock.hostname = "vm";
  lock.username = "root";
  lock.pid = 4242;
  EXPECT_EQ(EncodeLock(lock),
            "{\"time\":\"2026-11-26T06:31:40.160343179Z\",\"exclusive\":true,\"hostname\":\"vm\","
            "\"username\":\"root\",\"pid\":4242}");
  lock.uid = 1000;
  lock.gid = 1000;
  auto back = DecodeLock(EncodeLock(lock));
  ASSERT_OK(back);
  EXPECT_EQ(*back, lock);
  EXPECT_EQ(DecodeLock("{\"exclusive\":\"yes\"}").status().code(), Code::kInvalid);
}

TEST(UnpackedTest, ClassifiesFirstByte) {
  const uint8_t zstd[] = {0x02, 0x28, 0xb5, 0x2f, 0xfd};
  const uint8_t obj[] = {'{', '}'};
  const uint8_t arr[] = {'[', ']'};
  const uint8_t bad[] = {0x03};
  EXPECT_EQ(*ClassifyUnpacked(zstd), UnpackedFraming::kZstd);
  EXPECT_EQ(*ClassifyUnpacked(obj), UnpackedFraming::kRawJson);
  EXPECT_EQ(*ClassifyUnpacked(arr), UnpackedFraming::kRawJson);
  EXPECT_EQ(ClassifyUnpacked(bad).status().code(), Code::kDataLoss);
  EXPECT_EQ(ClassifyUnpacked({}).status().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace stash::format
