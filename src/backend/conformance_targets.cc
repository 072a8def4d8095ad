#include "conformance_targets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include "stash/backend/azure.h"
#include "stash/backend/gcs.h"
#include "stash/backend/local.h"
#include "stash/backend/memory.h"
#include "stash/backend/rest.h"
#include "stash/backend/s3.h"
#include "stash/core/clock.h"
#include "testing/peer_process.h"

namespace stash::backend {

bool PeersRequired() { return testing::PeersRequired(); }

std::string ScratchDir() {
  static const std::string dir = [] {
    std::string base = std::filesystem::temp_directory_path().string() + "/stash-backend-XXXXXX";
    if (::mkdtemp(base.data()) == nullptr) return std::string("/tmp");
    return base;
  }();
  return dir;
}

namespace {

// Removes the scratch directory (and stops peers, through their owners'
// destructors) when the test program ends.
class Cleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    // Saved files are read-only, but their directories are ours and writable,
    // so unlinking them works without a chmod.
    std::error_code ec;
    std::filesystem::path p(ScratchDir());
    std::filesystem::remove_all(p, ec);
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

const ConformanceTarget kLocal{
    "local", [] { return std::string(); },
    [](const std::string& unique) -> Result<BackendPtr> {
      return BackendPtr(std::make_unique<LocalBackend>(ScratchDir() + "/" + unique));
    }};

const ConformanceTarget kMemory{"memory", [] { return std::string(); },
                                [](const std::string& unique) -> Result<BackendPtr> {
                                  return BackendPtr(std::make_unique<InMemoryBackend>(unique));
                                }};

// A peer server started on first use and stopped at process exit.
struct Peer {
  std::once_flag once;
  testing::PeerProcess process;
  std::string error;  // why it could not start
  int port = 0;
};

// Starts `peer` once with the argv `make_argv(port)`; returns "" or why not.
std::string EnsurePeer(
    Peer& peer, const std::string& program, const std::string& name,
    const std::function<std::vector<std::string>(int port)>& make_argv,
    const std::function<std::map<std::string, std::string>(int port)>& make_env = nullptr) {
  std::call_once(peer.once, [&] {
    if (program.empty()) {
      peer.error = name + " is not installed";
      return;
    }
    peer.port = testing::FreePort();
    Status s = peer.process.Start(
        make_argv(peer.port), make_env ? make_env(peer.port) : std::map<std::string, std::string>{},
        peer.port, ScratchDir() + "/" + name + ".log");
    if (!s.ok()) peer.error = s.ToString();
  });
  return peer.error;
}

Peer rclone_peer;
std::string RcloneUnavailable() {
  return EnsurePeer(rclone_peer, testing::FindProgram("rclone"), "rclone", [](int port) {
    std::string dir = ScratchDir() + "/rclone-root";
    std::filesystem::create_directories(dir);
    return std::vector<std::string>{"rclone",
                                    "serve",
                                    "restic",
                                    "--config",
                                    "/dev/null",
                                    "--addr",
                                    "127.0.0.1:" + std::to_string(port),
                                    dir};
  });
}

const ConformanceTarget kRest{
    "rest", RcloneUnavailable, [](const std::string& unique) -> Result<BackendPtr> {
      RestConfig c;
      STASH_ASSIGN_OR_RETURN(
          c.url,
          ParseUrl("http://127.0.0.1:" + std::to_string(rclone_peer.port) + "/" + unique + "/"));
      return BackendPtr(std::make_unique<RestBackend>(std::move(c)));
    }};

RealClock real_clock;

Peer moto_peer;
std::string MotoUnavailable() {
  return EnsurePeer(moto_peer, testing::FindProgram("moto_server"), "moto", [](int port) {
    return std::vector<std::string>{"moto_server", "-H", "127.0.0.1", "-p", std::to_string(port)};
  });
}

const ConformanceTarget kS3{
    "s3", MotoUnavailable, [](const std::string& unique) -> Result<BackendPtr> {
      S3Config c;
      STASH_ASSIGN_OR_RETURN(c.endpoint,
                             ParseUrl("http://127.0.0.1:" + std::to_string(moto_peer.port)));
      c.bucket = unique.substr(0, 63);
      while (c.bucket.back() == '-') c.bucket.pop_back();
      c.prefix = "restic/repo";
      c.access_key_id = "AKIACONFORMANCE";
      c.secret_access_key = "conformance-secret";
      c.list_page_size = 7;  // listings of 40 packs then take 6 pages
      return BackendPtr(std::make_unique<S3Backend>(std::move(c), real_clock));
    }};

// Azurite's documented development account.
constexpr const char* kAzuriteAccount = "devstoreaccount1";
constexpr const char* kAzuriteKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

Peer azurite_peer;
std::string AzuriteUnavailable() {
  std::string bin = testing::NpmBin("azurite-blob");
  return EnsurePeer(azurite_peer, bin, "azurite",
                    [bin](int port) {
                      return std::vector<std::string>{
                          bin,          "--blobHost",           "127.0.0.1",
                          "--blobPort", std::to_string(port),   "--disableTelemetry",
                          "--silent",   "--inMemoryPersistence"};
                    }) +
         (bin.empty() ? " (run: npm ci --prefix tests/peers)" : "");
}

const ConformanceTarget kAzure{
    "azure", AzuriteUnavailable, [](const std::string& unique) -> Result<BackendPtr> {
      AzureConfig c;
      c.account_name = kAzuriteAccount;
      c.account_key = kAzuriteKey;
      c.container = unique.substr(0, 63);
      while (c.container.back() == '-') c.container.pop_back();
      c.prefix = "restic/repo";
      c.endpoint = "http://127.0.0.1:" + std::to_string(azurite_peer.port) + "/" + kAzuriteAccount;
      c.list_page_size = 7;
      c.single_put_max = 16 << 20;  // the 64 MiB object goes up in blocks
      c.block_size = 24 << 20;
      STASH_ASSIGN_OR_RETURN(auto b, AzureBackend::Open(std::move(c), real_clock));
      return BackendPtr(std::move(b));
    }};

Peer gcs_peer;
std::string GcsUnavailable() {
  std::string ft = std::string(STASH_SOURCE_DIR) + "/tests/peers/node_modules/firebase-tools";
  std::string node = testing::FindProgram("node");
  if (!std::filesystem::exists(ft))
    return "firebase-tools is not installed (run: npm ci --prefix tests/peers)";
  return EnsurePeer(
      gcs_peer, node, "gcs-emu",
      [node](int port) {
        return std::vector<std::string>{node,
                                        std::string(STASH_SOURCE_DIR) + "/tests/peers/gcs-emu.js"};
      },
      [](int port) {
        // The emulator keeps blobs under $TMPDIR/firebase; keep them in our scratch.
        return std::map<std::string, std::string>{{"PORT", std::to_string(port)},
                                                  {"TMPDIR", ScratchDir()}};
      });
}

const ConformanceTarget kGcs{
    "gcs", GcsUnavailable, [](const std::string& unique) -> Result<BackendPtr> {
      GcsConfig c;
      c.bucket = unique.substr(0, 63);
      while (c.bucket.back() == '-') c.bucket.pop_back();
      c.prefix = "restic/repo";
      c.endpoint = "127.0.0.1:" + std::to_string(gcs_peer.port);
      c.emulator = true;
      c.list_page_size = 7;
      STASH_ASSIGN_OR_RETURN(auto b, GcsBackend::Open(std::move(c), real_clock));
      return BackendPtr(std::move(b));
    }};

}  // namespace

int RestPeerPort(std::string* why) {
  *why = RcloneUnavailable();
  return why->empty() ? rclone_peer.port : 0;
}

int S3PeerPort(std::string* why) {
  *why = MotoUnavailable();
  return why->empty() ? moto_peer.port : 0;
}

std::vector<const ConformanceTarget*> AllConformanceTargets() {
  return {&kLocal, &kMemory, &kRest, &kS3, &kAzure, &kGcs};
}

}  // namespace stash::backend
