// The stash command line: builds the CLI11 application with every subcommand
// and runs it.
//
// Exit codes (as restic's): 0 success, 1 error, 2 usage error, 3 a backup
// that completed but could not read every source file.
//
// Thread-safety: Run() is meant to be called once, from main().
#pragma once

#include <string>
#include <vector>

namespace stash::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIncomplete = 3;

// Parses argv and runs the selected command; returns the process exit code.
int Run(int argc, char** argv);
// Same, for tests: args excludes the program name.
int Run(const std::vector<std::string>& args);

}  // namespace stash::cli
