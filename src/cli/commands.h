// Private to cli: the global options every command sees, and the per-command
// registration functions (one file per command, cmd_<name>.cc).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace stash::cli {

struct GlobalOptions {
  std::string log_level = "warn";
};

// Each Register* adds one subcommand to `app`. The callback it installs sets
// `*exit_code`.
using Registrar = std::function<void(CLI::App& app, GlobalOptions& global, int* exit_code)>;

void RegisterVersion(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterBackup(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterInit(CLI::App& app, GlobalOptions& global, int* exit_code);
void RegisterServer(CLI::App& app, GlobalOptions& global, int* exit_code);

}  // namespace stash::cli
