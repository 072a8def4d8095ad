// Private to cli: `kubectl stash`, Stash's kubectl plugin. The stash binary
// answers as the plugin when it is run under the name `kubectl-stash` (a
// symlink on PATH, which scripts/setup.sh installs), so the real kubectl
// finds it: `kubectl stash pause backup --backupconfig=NAME -n demo`.
//
// Commands, with Stash's flags (stash-api.md §2.4) and kubectl's global
// flags -n/--namespace, --kubeconfig, --context: trigger, pause backup,
// resume backup, unlock, check, cp secret|repository|backupconfig,
// create repository|backupconfig|restoresession, delete snapshot.
//
// Thread-safety: main thread only.
#pragma once

#include <string>
#include <vector>

namespace stash::cli {

// Runs the plugin on `args` (without the program name); returns the exit code.
int RunKubectlStash(const std::vector<std::string>& args);

}  // namespace stash::cli
