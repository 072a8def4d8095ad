// Interop proof against the real restic 0.14: open a repository restic
// created (scrypt user key -> master key -> config), and let restic open a
// key file that stash sealed. Skipped only when restic is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "stash/core/base64.h"
#include "stash/core/testing.h"
#include "stash/crypto/kdf.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"

namespace stash::crypto {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> Base64Bytes(const std::string& in) {
  auto out = Base64Decode(in);
  EXPECT_OK(out) << in;
  return out.ok() ? std::vector<uint8_t>(out->begin(), out->end()) : std::vector<uint8_t>();
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <size_t N>
std::array<uint8_t, N> ToArray(const std::vector<uint8_t>& v) {
  std::array<uint8_t, N> a{};
  EXPECT_EQ(v.size(), N);
  std::copy_n(v.begin(), std::min(N, v.size()), a.begin());
  return a;
}

class ResticInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("restic version >/dev/null 2>&1") != 0) GTEST_SKIP() << "restic not installed";
    dir_ = fs::temp_directory_path() / ("stash-crypto-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Restic("init", "x"), 0);
  }
  void TearDown() override {
    if (!dir_.empty()) {
      // restic makes its files read-only; remove_all copes as we own the dir.
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
  int Restic(const std::string& args, const std::string& password, std::string* out = nullptr) {
    const fs::path out_file = dir_ / "out.txt";
    const std::string cmd = "RESTIC_PASSWORD='" + password + "' restic --no-cache -r '" +
                            repo_.string() + "' " + args + " >'" + out_file.string() + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    if (out) *out = ReadFile(out_file);
    return rc;
  }

  fs::path dir_, repo_;
};

TEST_F(ResticInteropTest, OpensResticRepositoryAndResticOpensOurKey) {
  // 1. restic's key file -> user key (our scrypt) -> master key (our Open).
  fs::path key_file;
  for (const auto& e : fs::directory_iterator(repo_ / "keys")) key_file = e.path();
  ASSERT_FALSE(key_file.empty());
  const auto kj = nlohmann::json::parse(ReadFile(key_file));
  ASSERT_EQ(kj.at("kdf"), "scrypt");
  const ScryptParams params{kj.at("N").get<uint64_t>(), kj.at("r").get<uint32_t>(),
                            kj.at("p").get<uint32_t>()};
  const auto salt = Base64Bytes(kj.at("salt").get<std::string>());
  auto user = DeriveUserKey("x", salt, params);
  ASSERT_OK(user);
  auto master_json = Open(*user, Base64Bytes(kj.at("data").get<std::string>()));
  ASSERT_OK(master_json);
  const auto mj = nlohmann::json::parse(master_json->begin(), master_json->end());
  Key master;
  master.encrypt = ToArray<32>(Base64Bytes(mj.at("encrypt").get<std::string>()));
  master.mac_k = ToArray<16>(Base64Bytes(mj.at("mac").at("k").get<std::string>()));
  master.mac_r = ToArray<16>(Base64Bytes(mj.at("mac").at("r").get<std::string>()));
  ASSERT_TRUE(master.Valid());

  // A wrong password must fail the MAC, not produce garbage.
  auto wrong = DeriveUserKey("y", salt, params);
  ASSERT_OK(wrong);
  EXPECT_EQ(Open(*wrong, Base64Bytes(kj.at("data").get<std::string>())).status().code(),
            Code::kDataLoss);

  // 2. config, sealed by restic with the master key.
  const std::string config_sealed = ReadFile(repo_ / "config");
  auto config = Open(master, Bytes(config_sealed));
  ASSERT_OK(config);
  const std::string config_text(config->begin(), config->end());
  EXPECT_NE(config_text.find("\"chunker_polynomial\""), std::string::npos) << config_text;
  EXPECT_EQ(nlohmann::json::parse(config_text).at("version"), 2);

  // 3. The other direction: a key file for password "z" that stash derived
  // and sealed (cheap scrypt params, unmasked r as stored) must let restic in.
  SystemRandom rnd;
  std::vector<uint8_t> our_salt(64);
  rnd.Fill(our_salt);
  const ScryptParams cheap{1024, 8, 1};
  auto our_user = DeriveUserKey("z", our_salt, cheap);
  ASSERT_OK(our_user);
  const std::string mk =
      master_json->empty() ? "" : std::string(master_json->begin(), master_json->end());
  const auto sealed_master = Seal(*our_user, rnd, Bytes(mk));
  nlohmann::ordered_json ours = {{"created", "2026-11-26T07:00:00Z"},
                                 {"username", "stash"},
                                 {"hostname", "test"},
                                 {"kdf", "scrypt"},
                                 {"N", cheap.n},
                                 {"r", cheap.r},
                                 {"p", cheap.p},
                                 {"salt", Base64Encode(our_salt)},
                                 {"data", Base64Encode(sealed_master)}};
  const std::string body = ours.dump();
  const std::string name = Sha256(std::string_view(body)).Hex();
  std::ofstream(repo_ / "keys" / name, std::ios::binary) << body;
  std::string out;
  ASSERT_EQ(Restic("cat config", "z", &out), 0) << out;
  EXPECT_NE(out.find(nlohmann::json::parse(config_text).at("id").get<std::string>()),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace stash::crypto
