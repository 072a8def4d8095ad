// Logging setup. Code logs through spdlog's free functions
// (spdlog::info(...), spdlog::debug(...)); this header only configures the
// default logger: stderr, a compact pattern and a level.
//
// Thread-safety: InitLogging/SetLogLevel may be called from any thread;
// spdlog's default logger is thread-safe.
#pragma once

#include <string_view>

#include "stash/core/status.h"

namespace stash {

// Installs a stderr logger with the given level name: trace, debug, info,
// warn, error, off. Returns kInvalid for an unknown name.
Status InitLogging(std::string_view level);

// Accepted level names, for --help texts.
inline constexpr std::string_view kLogLevels = "trace, debug, info, warn, error, off";

}  // namespace stash
