#include "stash/cli/app.h"

#include <iostream>

#include "commands.h"
#include "kubectl_stash.h"
#include "stash/core/log.h"

namespace stash::cli {

namespace {

constexpr const char* kFooter = R"(Exit codes:
  0  success
  1  error (the message says what failed and what to do)
  2  usage error (unknown command or flag, bad flag value)
  3  backup completed, but some source files could not be read

Run 'stash <command> --help' for a command's flags.)";

// Order of `stash --help`: the Kubernetes side first, then restic's verbs in
// the order a user meets them, then version.
const Registrar kCommands[] = {
    RegisterServer,       RegisterOperator, RegisterRunBackup, RegisterCreateBackupSession,
    RegisterRunRestore,   RegisterInit,     RegisterBackup,    RegisterSnapshots,
    RegisterLs,           RegisterCat,      RegisterDump,      RegisterRestore,
    RegisterCheck,        RegisterStats,    RegisterForget,    RegisterPrune,
    RegisterUnlock,       RegisterCache,    RegisterVersion,   RegisterNode,
    RegisterSidecarReady,  // the sidecar's readinessProbe, last: not for users
};

}  // namespace

int Run(const std::vector<std::string>& args) {
  CLI::App app{"stash: Kubernetes backup operator and restic-compatible backup engine", "stash"};
  app.footer(kFooter);
  app.require_subcommand(1);
  // Global flags are accepted before or after the command, as restic does.
  app.fallthrough();
  app.set_help_all_flag("--help-all", "Print help for every command");
  GlobalOptions global;
  app.add_option("--log-level", global.log_level,
                 std::string("Log level: ") + std::string(kLogLevels))
      ->capture_default_str();
  int exit_code = kExitOk;
  app.parse_complete_callback([&] {
    // The node's agents (sidecar, init container, trigger) run unattended:
    // their log (`kubectl logs -c stash`) is the record of what they did, so
    // they say it at info unless told otherwise, as Stash's containers do.
    if (app.count("--log-level") == 0) {
      for (const char* agent : {"run-backup", "run-restore", "create-backupsession"}) {
        if (app.got_subcommand(agent)) global.log_level = "info";
      }
    }
    if (Status s = InitLogging(global.log_level); !s.ok())
      throw CLI::ValidationError("--log-level", s.message());
  });
  for (const Registrar& reg : kCommands) reg(app, global, &exit_code);

  // CLI11 parses in reverse order from a vector.
  std::vector<std::string> rev(args.rbegin(), args.rend());
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app.exit(e);
      return kExitOk;
    }
    std::cerr << "stash: " << e.what() << "\n";
    std::cerr << "Run 'stash --help' for usage.\n";
    return kExitUsage;
  }
  return exit_code;
}

int Run(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  // Run as `kubectl-stash` (a symlink on PATH), the binary is kubectl's
  // plugin: `kubectl stash ...` execs it with the arguments after "stash".
  std::string_view self = argc > 0 ? argv[0] : "";
  if (size_t slash = self.rfind('/'); slash != std::string_view::npos) {
    self = self.substr(slash + 1);
  }
  if (self == "kubectl-stash") return RunKubectlStash(args);
  return Run(args);
}

}  // namespace stash::cli
