// Build identity of the stash binary, filled in by cmake/GenVersion.cmake.
#pragma once

namespace stash::cli {
extern const char* const kVersion;    // e.g. "0.1.0"
extern const char* const kGitCommit;  // short commit, "-dirty" when modified
}  // namespace stash::cli
