// Interop proof against the real restic 0.14 for the repository layer:
// stash opens a repository restic wrote (keys, config, index, snapshot, trees,
// data blobs, pack headers), and restic `check --read-data` accepts a
// repository whose packs, index and snapshot stash wrote. Skipped only when
// restic is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stash/backend/local.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/crypto/sha256.h"
#include "stash/repo/repository.h"

namespace stash::repo {
namespace {

namespace fs = std::filesystem;
using backend::FileType;

std::string Shell(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = pclose(p);
  return out;
}

class ResticRepoInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("restic version >/dev/null 2>&1") != 0) GTEST_SKIP() << "restic not installed";
    dir_ = fs::temp_directory_path() / ("stash-repo-interop-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src" / "sub");
    setenv("RESTIC_PASSWORD", "pw", 1);
    opts_.clock = &clock_;
    opts_.random = &random_;
    opts_.scrypt_n = 1024;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  std::string Restic(const std::string& args, int* rc) {
    return Shell("restic --no-cache -q -r " + (dir_ / "repo").string() + " " + args + " 2>&1", rc);
  }
  std::unique_ptr<Repository> OpenRepo() {
    auto r = Repository::Open(std::make_unique<backend::LocalBackend>((dir_ / "repo").string()),
                              "pw", opts_);
    EXPECT_OK(r);
    return r.ok() ? std::move(r).value() : nullptr;
  }

  fs::path dir_;
  RealClock clock_;
  SystemRandom random_;
  Options opts_;
};

TEST_F(ResticRepoInteropTest, StashReadsWhatResticWrote) {
  {
    std::ofstream(dir_ / "src" / "small.txt") << "hello restic\n";
    std::ofstream big(dir_ / "src" / "sub" / "big.bin", std::ios::binary);
    SeededRandom r(7);
    std::vector<uint8_t> buf(3 << 20);
    r.Fill(buf);
    big.write(reinterpret_cast<const char*>(buf.data()), buf.size());
  }
  int rc;
  std::string out = Restic("init", &rc);
  ASSERT_EQ(rc, 0) << out;
  out = Shell("cd " + dir_.string() + " && restic --no-cache -q -r repo backup src 2>&1", &rc);
  ASSERT_EQ(rc, 0) << out;

  auto repo = OpenRepo();
  ASSERT_TRUE(repo);
  EXPECT_EQ(repo->format_version(), 2);
  ASSERT_OK(repo->LoadIndex());
  auto snaps = repo->ListIds(FileType::kSnapshot);
  ASSERT_OK(snaps);
  ASSERT_EQ(snaps->size(), 1u);
  auto snap = repo->LoadUnpacked(FileType::kSnapshot, snaps->at(0));
  ASSERT_OK(snap);
  auto sj = nlohmann::json::parse(*snap);
  // Walk every tree down from the root, loading each data blob.
  std::vector<std::string> trees = {sj["tree"].get<std::string>()};
  size_t files = 0, data_bytes = 0;
  while (!trees.empty()) {
    Id tid = *Id::FromHex(trees.back());
    trees.pop_back();
    auto tree = repo->LoadBlob(BlobKind::kTree, tid);
    ASSERT_OK(tree);
    auto tj = nlohmann::json::parse(tree->begin(), tree->end());
    for (const auto& node : tj["nodes"]) {
      if (node["type"] == "dir") trees.push_back(node["subtree"]);
      if (node["type"] != "file") continue;
      ++files;
      for (const auto& c : node["content"]) {
        auto blob = repo->LoadBlob(BlobKind::kData, *Id::FromHex(c.get<std::string>()));
        ASSERT_OK(blob);
        data_bytes += blob->size();
      }
    }
  }
  EXPECT_EQ(files, 2u);
  EXPECT_EQ(data_bytes, (3u << 20) + 13u);
  // Every pack header restic wrote parses and matches the index.
  auto packs = repo->ListIds(FileType::kPack);
  ASSERT_OK(packs);
  for (const Id& p : *packs) {
    auto blobs = repo->ListPack(p, 0);
    ASSERT_OK(blobs);
    for (const auto& b : *blobs) {
      auto loc = repo->Lookup(b.location.kind, b.id);
      ASSERT_TRUE(loc);
      EXPECT_EQ(loc->offset, b.location.offset);
      EXPECT_EQ(loc->length, b.location.length);
    }
  }
  // A wrong password is told apart from a missing repository.
  auto bad = Repository::Open(std::make_unique<backend::LocalBackend>((dir_ / "repo").string()),
                              "wrong", opts_);
  EXPECT_EQ(bad.status().code(), Code::kUnauthorized);
}

TEST_F(ResticRepoInteropTest, ResticChecksWhatStashWrote) {
  std::string time = "2026-01-02T03:04:05Z";
  {
    auto r = Repository::Init(std::make_unique<backend::LocalBackend>((dir_ / "repo").string()),
                              "pw", opts_);
    ASSERT_OK(r);
    Repository& repo = **r;
    // Three files: empty, small compressible, large random (several blobs).
    std::string nodes;
    SeededRandom rnd(3);
    for (int f = 0; f < 3; ++f) {
      std::vector<std::string> content;
      size_t size = 0;
      for (int b = 0; b < f * 2; ++b) {
        std::vector<uint8_t> d(f == 1 ? 5000 : (1 << 20) + b);
        if (f == 2)
          rnd.Fill(d);
        else
          std::fill(d.begin(), d.end(), 'a');
        Id id = crypto::Sha256(d);
        size += d.size();
        content.push_back("\"" + id.Hex() + "\"");
        ASSERT_OK(repo.SaveBlob(BlobKind::kData, id, d));
      }
      std::string c = "[";
      for (size_t i = 0; i < content.size(); ++i) c += (i ? "," : "") + content[i];
      c += "]";
      if (!nodes.empty()) nodes += ",";
      nodes +=
          "{\"name\":\"f" + std::to_string(f) + "\",\"type\":\"file\",\"mode\":420,\"mtime\":\"" +
          time + "\",\"atime\":\"" + time + "\",\"ctime\":\"" + time + "\",\"uid\":0,\"gid\":0" +
          (size ? ",\"size\":" + std::to_string(size) : "") + ",\"links\":1,\"content\":" + c + "}";
    }
    std::string tree = "{\"nodes\":[" + nodes + "]}\n";
    std::vector<uint8_t> t(tree.begin(), tree.end());
    Id tree_id = crypto::Sha256(t);
    ASSERT_OK(repo.SaveBlob(BlobKind::kTree, tree_id, t));
    ASSERT_OK(repo.Flush());
    std::string snap = "{\"time\":\"" + time + "\",\"tree\":\"" + tree_id.Hex() +
                       "\",\"paths\":[\"/x\"],\"hostname\":\"h\",\"username\":\"u\"}";
    ASSERT_OK(repo.SaveUnpacked(FileType::kSnapshot, snap));
  }
  int rc;
  std::string out = Restic("check --read-data", &rc);
  EXPECT_EQ(rc, 0) << out;
  out = Restic("restore latest --target " + (dir_ / "out").string(), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(fs::file_size(dir_ / "out" / "f0"), 0u);
  EXPECT_EQ(fs::file_size(dir_ / "out" / "f1"), 10000u);
  EXPECT_EQ(fs::file_size(dir_ / "out" / "f2"), 4u * (1 << 20) + 6u);
}

}  // namespace
}  // namespace stash::repo
