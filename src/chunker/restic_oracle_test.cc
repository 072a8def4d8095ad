// Oracle test: the real restic 0.14 must cut the same files into the same
// chunks as our Chunker, using the polynomial of a repository restic created.
// Skipped only when restic is not installed.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "stash/chunker/chunker.h"
#include "stash/core/id.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"

namespace stash::chunker {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Sha256Hex(const uint8_t* p, size_t n) {
  uint8_t md[32];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(p, n, md, &len, EVP_sha256(), nullptr), 1);
  return HexEncode(md, len);
}

class ResticOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("restic version >/dev/null 2>&1") != 0) GTEST_SKIP() << "restic not installed";
    dir_ = fs::temp_directory_path() / ("stash-chunker-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src");
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  // Runs restic on the test repository; returns stdout, fails the test on a
  // non-zero exit.
  std::string Restic(const std::string& args) {
    const fs::path out = dir_ / "out.txt", err = dir_ / "err.txt";
    const std::string cmd = "cd '" + dir_.string() +
                            "' && RESTIC_PASSWORD=x restic --no-cache -q -r repo " + args + " >'" +
                            out.string() + "' 2>'" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << cmd << "\n" << ReadFile(err);
    return ReadFile(out);
  }

  fs::path dir_;
};

TEST_F(ResticOracleTest, SameChunksAsRestic) {
  Restic("init");
  const auto config = nlohmann::json::parse(Restic("cat config"));
  auto pol = PolFromHex(config.at("chunker_polynomial").get<std::string>());
  ASSERT_OK(pol);
  ASSERT_OK(CheckChunkerPolynomial(*pol));

  // 20 MiB of random data (about a dozen content-defined cuts), and 9 MiB of
  // one repeated byte (zero or forced MaxSize cuts, depending on the pol).
  std::map<std::string, std::vector<uint8_t>> files;
  files["random.bin"].resize(20 << 20);
  SeededRandom rnd(2026);
  rnd.Fill(files["random.bin"]);
  files["ones.bin"].assign(9 << 20, 0xa5);
  for (const auto& [name, data] : files) {
    std::ofstream(dir_ / "src" / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
  }
  Restic("backup --compression off src");

  // restic's data blobs: id -> plaintext length (sealed length - 32).
  std::map<std::string, size_t> theirs;
  std::istringstream ids(Restic("list index"));
  for (std::string id; std::getline(ids, id);) {
    if (id.empty()) continue;
    const auto index = nlohmann::json::parse(Restic("cat index " + id));
    for (const auto& pack : index.at("packs")) {
      for (const auto& blob : pack.at("blobs")) {
        if (blob.at("type") != "data") continue;
        ASSERT_FALSE(blob.contains("uncompressed_length")) << "blob was compressed";
        theirs[blob.at("id").get<std::string>()] = blob.at("length").get<size_t>() - 32;
      }
    }
  }

  std::map<std::string, size_t> ours;
  Chunker chunker(TablesFor(*pol));
  for (const auto& [name, data] : files) {
    chunker.Reset();
    size_t start = 0, pos = 0;
    while (pos < data.size()) {
      bool cut;
      // Feed 1 MiB reads, as a file reader would.
      const size_t len = std::min<size_t>(1 << 20, data.size() - pos);
      pos += chunker.Next(std::span(data.data() + pos, len), &cut);
      if (cut || pos == data.size()) {
        ours[Sha256Hex(data.data() + start, pos - start)] = pos - start;
        start = pos;
      }
    }
  }
  EXPECT_GE(ours.size(), 10u);
  EXPECT_EQ(ours, theirs) << "polynomial " << PolToHex(*pol);
}

}  // namespace
}  // namespace stash::chunker
