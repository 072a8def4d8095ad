#include "conformance_targets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "stash/backend/local.h"
#include "stash/backend/memory.h"
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

const ConformanceTarget kMemory{
    "memory", [] { return std::string(); },
    [](const std::string& unique) -> Result<BackendPtr> {
      return BackendPtr(std::make_unique<InMemoryBackend>(unique));
    }};

}  // namespace

std::vector<const ConformanceTarget*> AllConformanceTargets() {
  return {&kLocal, &kMemory};
}

}  // namespace stash::backend
