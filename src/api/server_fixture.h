// Test-only fixtures of the API server's tests, so each test file does not
// repeat the set-up:
// - StoreTest: a fresh directory per test under the system's temporary
//   directory, named after the test and this process (dir_), a Store opened in
//   it (store_), a ManualClock starting where the test says and a seeded
//   Random.
// - ApiHandlerTest: that, plus the Registry, a ServiceAccount token signer,
//   Auth and the ApiHandler over the store (handler_).
// A base's members outlive a derived fixture's, and these are declared so the
// Store outlives Auth and the ApiHandler; TearDown releases them in that order
// before it removes the directory. A derived TearDown releases what it added
// (a ControllerManager, an Aggregator) first, then calls its base's.
//
// Thread-safety: as GoogleTest fixtures (one test thread).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "auth.h"
#include "auth_jwt.h"
#include "handler.h"
#include "registry.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "store.h"

namespace stash::api::testing {

class StoreTest : public ::testing::Test {
 protected:
  explicit StoreTest(SystemTime clock_start) : clock_(clock_start) {}

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    std::replace(name.begin(), name.end(), '/', '-');  // parameterised tests
    dir_ = std::filesystem::temp_directory_path() /
           ("stash-api-test-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = Store::Open((dir_ / "state.db").string());
    ASSERT_OK(store);
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<Store> store_;
};

class ApiHandlerTest : public StoreTest {
 protected:
  using StoreTest::StoreTest;

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StoreTest::SetUp());
    auto signer = TokenSigner::LoadOrCreate((dir_ / "sa.key").string());
    ASSERT_OK(signer);
    auth_ = std::make_unique<Auth>(*store_, clock_, random_, std::move(*signer), "token");
    handler_ = std::make_unique<ApiHandler>(*store_, registry_, clock_, random_, *auth_);
  }
  void TearDown() override {
    handler_.reset();
    auth_.reset();
    StoreTest::TearDown();
  }

  Registry registry_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<ApiHandler> handler_;
};

}  // namespace stash::api::testing
