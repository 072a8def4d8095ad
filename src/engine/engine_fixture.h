// Test-only fixtures of the engine's tests, so each test file does not repeat
// the set-up:
// - TempDirTest: a fresh directory under /tmp per test (dir_), removed after.
// - RepoTest<ClockT>: that, plus a new repository (fast key derivation,
//   seeded Random, the clock ClockT: ManualClock unless a test needs time to
//   move by itself) in memory or on disk under dir_/repo.
//
// Thread-safety: as GoogleTest fixtures (one test thread).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "stash/backend/local.h"
#include "stash/backend/memory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/repo/repository.h"

namespace stash::engine::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stash-engine-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
};

template <typename ClockT = ManualClock>
class RepoTest : public TempDirTest {
 protected:
  enum class Where { kMemory, kDisk };
  // Makes repo_; call from SetUp after RepoTest::SetUp (or TempDirTest's).
  void InitRepository(Where where, uint64_t pack_size = 0) {
    repo::Options o;
    o.scrypt_n = 1024;
    o.clock = &clock_;
    o.random = &random_;
    if (pack_size) o.pack_size = pack_size;
    backend::BackendPtr store;
    if (where == Where::kDisk) {
      store = std::make_unique<backend::LocalBackend>(dir_ + "/repo");
    } else {
      store = std::make_unique<backend::InMemoryBackend>();
    }
    auto r = repo::Repository::Init(std::move(store), "pw", o);
    ASSERT_OK(r);
    repo_ = std::move(*r);
  }

  ClockT clock_;
  SeededRandom random_{7};
  std::unique_ptr<repo::Repository> repo_;
};

}  // namespace stash::engine::testing
