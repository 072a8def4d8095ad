// `stash cat`: prints internal repository objects as restic 0.14.
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"
#include "stash/engine/cat.h"

namespace stash::cli {

namespace {

int RunCat(const ResticOptions& ro, const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "masterkey" && args[0] != "config" && args.size() != 2)) {
    std::cerr << "Fatal: type or ID not specified\n";
    return kExitError;
  }
  static const char* kTypes[] = {"config", "masterkey", "index", "snapshot", "key",
                                 "lock",   "pack",      "blob",  "tree"};
  bool known = false;
  for (const char* t : kTypes) known = known || args[0] == t;
  if (!known) {
    std::cerr << "Fatal: invalid type\n";
    return kExitError;
  }
  auto opened = OpenForVerb(ro, VerbLock::kShared);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  auto out = engine::CatObject(repo, args[0], args.size() > 1 ? args[1] : "",
                               [](const std::string& w) { std::cerr << w << "\n"; });
  if (!out.ok()) {
    std::string prefix = args[0] == "snapshot" ? "could not find snapshot: " : "";
    std::cerr << "Fatal: " << prefix << out.status().message() << "\n";
    return kExitError;
  }
  std::cout.write(out->data(), static_cast<std::streamsize>(out->size()));
  std::cout.flush();
  return kExitOk;
}

}  // namespace

void RegisterCat(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand(
      "cat",
      "Print internal objects to stdout: config, masterkey, index ID, snapshot ID, key ID, "
      "lock ID, pack ID, blob ID, tree snapshot[:path]");
  auto args = std::make_shared<std::vector<std::string>>();
  cmd->add_option("args", *args, "type [ID]");
  cmd->callback([ro, args, exit_code] { *exit_code = RunCat(*ro, *args); });
}

}  // namespace stash::cli
