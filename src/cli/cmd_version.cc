#include <iostream>

#include "commands.h"
#include "stash/cli/app.h"
#include "stash/cli/version.h"

namespace stash::cli {

void RegisterVersion(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand("version", "Print version and git commit");
  cmd->callback([exit_code] {
    std::cout << "stash " << kVersion << " (commit " << kGitCommit << ") compiled with g++ "
              << __VERSION__ << " on linux/"
#if defined(__x86_64__)
              << "amd64"
#elif defined(__aarch64__)
              << "arm64"
#else
              << "unknown"
#endif
              << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace stash::cli
