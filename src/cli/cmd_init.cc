// `stash init`: creates a restic repository (config v2, one key).
#include <iostream>

#include "commands.h"
#include "restic_options.h"
#include "stash/cli/app.h"

namespace stash::cli {

namespace {

int RunInit(const ResticOptions& ro, const std::string& version) {
  if (!version.empty() && version != "2" && version != "latest" && version != "stable") {
    std::cerr << "Fatal: repository version " << version
              << " is not supported by stash: use 2 (also \"latest\" or \"stable\")\n";
    return kExitError;
  }
  auto ctx_or = ResolveResticContext(ro);
  if (auto* e = std::get_if<CliError>(&ctx_or)) {
    std::cerr << e->message << "\n";
    return e->exit_code;
  }
  ResticContext& ctx = std::get<ResticContext>(ctx_or);
  if (ctx.password.empty()) {
    std::cerr << "Fatal: an empty password is not allowed by default. Pass the flag "
                 "`--insecure-no-password` to restic to disable this check\n";
    return kExitError;
  }
  auto be = OpenResticBackend(ctx);
  if (auto* e = std::get_if<CliError>(&be)) {
    std::cerr << e->message << "\n";
    return e->exit_code;
  }
  auto repo = repo::Repository::Init(std::move(std::get<backend::BackendPtr>(be)), ctx.password,
                                     ctx.repo_options);
  if (!repo.ok()) {
    std::string why = repo.status().code() == Code::kAlreadyExists ? "config file already exists"
                                                                   : repo.status().message();
    std::cerr << "Fatal: create repository at " << ctx.repo_display << " failed: " << why << "\n";
    return kExitError;
  }
  std::string short_id = (*repo)->repository_id().substr(0, 10);
  if (ro.json) {
    std::cout << "{\"message_type\":\"initialized\",\"id\":\"" << (*repo)->repository_id()
              << "\",\"repository\":\"" << ctx.repo_display << "\"}\n";
  } else if (!ro.quiet) {
    std::cout << "created restic repository " << short_id << " at " << ctx.repo_display << "\n\n"
              << "Please note that knowledge of your password is required to access\n"
                 "the repository. Losing your password means that your data is\n"
                 "irrecoverably lost.\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterInit(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("init", "Initialize a new restic repository");
  auto version = std::make_shared<std::string>();
  cmd->add_option("--repository-version", *version,
                  "Repository format version to use (2, latest or stable)");
  cmd->callback([ro, version, exit_code] { *exit_code = RunInit(*ro, *version); });
}

}  // namespace stash::cli
