// `stash sidecar-ready`: the backup sidecar's readinessProbe (exec), which
// the operator puts on the container it injects and which a kubelet, or the
// embedded node, runs in the container's environment. It exits 0 while the
// sidecar works and 1, saying why, while the sidecar says it is not Ready
// (the API server denies it a call): the file of $STASH_NOT_READY_FILE, else
// the container's /tmp/stash-sidecar-not-ready.
#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "stash/agent/sidecar.h"
#include "stash/cli/app.h"
#include "stash/kube/stash_names.h"

namespace stash::cli {

void RegisterSidecarReady(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* cmd = app.add_subcommand(
      std::string(kube::kSidecarReadyCommand),
      "Readiness probe of the backup sidecar: exit 1 while it says it is not Ready");
  auto file = std::make_shared<std::string>();
  cmd->add_option("--not-ready-file", *file,
                  std::string("The sidecar's signal (default: $") + agent::kNotReadyFileEnv +
                      ", else " + agent::kSidecarNotReadyFile + ")");
  cmd->callback([file, exit_code] {
    std::string path = *file;
    if (path.empty()) {
      const char* env = std::getenv(agent::kNotReadyFileEnv);
      path = env && *env ? env : agent::kSidecarNotReadyFile;
    }
    Status s = agent::SidecarReadiness(path);
    if (!s.ok()) std::cerr << s.message() << "\n";
    *exit_code = s.ok() ? kExitOk : kExitError;
  });
}

}  // namespace stash::cli
