#include "stash/cli/app.h"

#include <gtest/gtest.h>

namespace stash::cli {
namespace {

TEST(AppTest, VersionSucceeds) { EXPECT_EQ(cli::Run({"version"}), kExitOk); }

TEST(AppTest, UnknownCommandIsAUsageError) { EXPECT_EQ(cli::Run({"frobnicate"}), kExitUsage); }

TEST(AppTest, MissingCommandIsAUsageError) {
  EXPECT_EQ(cli::Run(std::vector<std::string>{}), kExitUsage);
}

TEST(AppTest, BadLogLevelIsAUsageError) {
  EXPECT_EQ(cli::Run({"--log-level", "chatty", "version"}), kExitUsage);
}

TEST(AppTest, GlobalFlagAfterTheCommandIsAccepted) {
  EXPECT_EQ(cli::Run({"version", "--log-level", "debug"}), kExitOk);
}

TEST(AppTest, HelpExitsZero) { EXPECT_EQ(cli::Run({"--help"}), kExitOk); }

}  // namespace
}  // namespace stash::cli
