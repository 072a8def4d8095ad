// restic 0.14 and our backends agree on the repository layout of every store:
// a repository restic wrote through its REST backend is read back through
// ours (every file's name is the SHA-256 of its bytes), copied file by file
// with our backends into S3, a local directory and a REST path, and restic
// then checks and reads each copy.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "conformance_targets.h"
#include "digest.h"
#include "stash/backend/azure.h"
#include "stash/backend/local.h"
#include "stash/backend/rest.h"
#include "stash/backend/s3.h"
#include "stash/core/testing.h"
#include "testing/peer_process.h"

namespace stash::backend {
namespace {

constexpr FileType kAllTypes[] = {FileType::kConfig, FileType::kKey,  FileType::kSnapshot,
                                  FileType::kIndex,  FileType::kLock, FileType::kPack};

// Runs restic with the environment given; returns its exit status and output.
int Restic(const std::string& env, const std::string& args, std::string* output) {
  const std::string log = ScratchDir() + "/restic.out";
  std::string cmd = env + " RESTIC_PASSWORD=interop-pw " + testing::FindProgram("restic") +
                    " --no-cache " + args + " >" + log + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream f(log);
  output->assign(std::istreambuf_iterator<char>(f), {});
  return rc;
}

// Copies every file of `from` into `to`, checking content addresses.
int CopyRepository(Backend& from, Backend& to) {
  int copied = 0;
  for (FileType t : kAllTypes) {
    std::vector<FileInfo> files;
    EXPECT_OK(from.List(t, [&](const FileInfo& fi) {
      files.push_back(fi);
      return Status::Ok();
    }));
    for (const FileInfo& fi : files) {
      Handle h{t, fi.name};
      std::vector<uint8_t> data;
      Status s = from.Load(h, 0, 0, &data);
      EXPECT_OK(s);
      EXPECT_EQ(data.size(), fi.size) << h.ToString();
      if (t != FileType::kConfig) {
        EXPECT_EQ(Hex(Sha256(data)), fi.name) << h.ToString();
      }
      s = to.Save(h, data);
      EXPECT_OK(s);
      ++copied;
    }
  }
  return copied;
}

TEST(ResticInterop, ResticReadsRepositoriesOurBackendsWroteToEachStore) {
  std::string rest_why, s3_why;
  int rest_port = RestPeerPort(&rest_why);
  int s3_port = S3PeerPort(&s3_why);
  for (const std::string* why : {&rest_why, &s3_why}) {
    if (!why->empty()) {
      if (PeersRequired()) FAIL() << *why;
      GTEST_SKIP() << *why;
    }
  }
  if (testing::FindProgram("restic").empty()) {
    if (PeersRequired()) FAIL() << "restic is not installed";
    GTEST_SKIP() << "restic is not installed";
  }
  // Some data for restic to back up: small files and one that spans packs.
  const std::string src = ScratchDir() + "/interop-src";
  std::filesystem::create_directories(src + "/sub");
  for (int i = 0; i < 20; ++i) std::ofstream(src + "/sub/f" + std::to_string(i)) << "file " << i;
  {
    std::ofstream big(src + "/big.bin", std::ios::binary);
    for (int i = 0; i < (6 << 20) / 8; ++i) big.write(reinterpret_cast<const char*>(&i), 8);
  }
  const std::string rest_url =
      "rest:http://127.0.0.1:" + std::to_string(rest_port) + "/interop-origin/";
  std::string out;
  ASSERT_EQ(Restic("", "-r " + rest_url + " init", &out), 0) << out;
  ASSERT_EQ(Restic("", "-r " + rest_url + " backup --host ci " + src, &out), 0) << out;

  RestConfig origin_config;
  origin_config.url = *ParseUrl(rest_url.substr(5));
  RestBackend origin(origin_config);

  RealClock clock;
  S3Config s3c;
  s3c.endpoint = *ParseUrl("http://127.0.0.1:" + std::to_string(s3_port));
  s3c.bucket = "interop";
  s3c.prefix = "copy";
  s3c.access_key_id = "AKIAINTEROP";
  s3c.secret_access_key = "interop-secret";
  S3Backend s3(s3c, clock);
  LocalBackend local(ScratchDir() + "/interop-local");
  RestConfig rest_copy_config;
  rest_copy_config.url =
      *ParseUrl("http://127.0.0.1:" + std::to_string(rest_port) + "/interop-copy/");
  RestBackend rest_copy(rest_copy_config);

  struct Target {
    Backend* backend;
    std::string repo, env;
  };
  std::vector<Target> targets = {
      {&s3, "s3:http://127.0.0.1:" + std::to_string(s3_port) + "/interop/copy",
       "AWS_ACCESS_KEY_ID=AKIAINTEROP AWS_SECRET_ACCESS_KEY=interop-secret"},
      {&local, ScratchDir() + "/interop-local", ""},
      {&rest_copy, "rest:http://127.0.0.1:" + std::to_string(rest_port) + "/interop-copy/", ""},
  };
  // restic 0.14 reaches Azurite only at 127.0.0.1:10000 (its SDK hard-codes
  // the emulator address for devstoreaccount1), so Azure joins when that
  // port is free.
  testing::PeerProcess azurite;
  std::unique_ptr<AzureBackend> azure;
  const std::string azurite_bin = testing::NpmBin("azurite-blob");
  const char* kKey =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
  if (!azurite_bin.empty() &&
      azurite
          .Start({azurite_bin, "--blobHost", "127.0.0.1", "--blobPort", "10000",
                  "--disableTelemetry", "--silent", "--inMemoryPersistence"},
                 {}, 10000, ScratchDir() + "/azurite-10000.log")
          .ok()) {
    AzureConfig ac;
    ac.account_name = "devstoreaccount1";
    ac.account_key = kKey;
    ac.container = "interop";
    ac.prefix = "copy";
    ac.endpoint = "http://127.0.0.1:10000/devstoreaccount1";
    azure = std::move(AzureBackend::Open(ac, clock)).value();
    targets.push_back(
        {azure.get(), "azure:interop:/copy",
         "AZURE_ACCOUNT_NAME=devstoreaccount1 AZURE_ACCOUNT_KEY=" + std::string(kKey)});
  } else {
    std::cerr << "note: Azure left out of the restic interop check (Azurite missing or port "
                 "10000 busy)\n";
  }
  for (const Target& t : targets) {
    ASSERT_OK(t.backend->Create()) << t.repo;
    int copied = CopyRepository(origin, *t.backend);
    EXPECT_GT(copied, 5) << t.repo;
    EXPECT_EQ(Restic(t.env, "-r " + t.repo + " check --read-data", &out), 0) << t.repo << "\n"
                                                                             << out;
    EXPECT_NE(out.find("no errors were found"), std::string::npos) << out;
    EXPECT_EQ(Restic(t.env, "-r " + t.repo + " dump latest " + src + "/sub/f7", &out), 0) << out;
    EXPECT_EQ(out, "file 7") << t.repo;
  }
}

}  // namespace
}  // namespace stash::backend
