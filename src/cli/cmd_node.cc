// `stash node`: the embedded node's container images (`stash node
// load-image FILE` imports an OCI or docker archive into the store the node's
// podman runs from, as `kind load image-archive` does for kind).
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "stash/agent/podman.h"
#include "stash/cli/app.h"

namespace stash::cli {

namespace {

int LoadImage(const std::string& data_dir, const std::string& archive) {
  if (!std::filesystem::exists(archive)) {
    std::cerr << "stash node load-image: " << archive << ": no such file\n";
    return kExitUsage;
  }
  const std::string node_dir = (std::filesystem::absolute(data_dir) / "node").string();
  agent::PodmanRuntime runtime(NodePodmanOptions(node_dir));
  auto names = runtime.LoadImage(std::filesystem::absolute(archive).string());
  if (!names.ok()) {
    std::cerr << "stash node load-image: " << names.status().message() << "\n";
    return kExitError;
  }
  for (const std::string& n : *names) std::cout << "Loaded image: " << n << "\n";
  return kExitOk;
}

}  // namespace

void RegisterNode(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto* node = app.add_subcommand("node", "The embedded node's container images");
  node->require_subcommand(1);
  auto* load = node->add_subcommand(
      "load-image", "Import an OCI or docker image archive into the embedded node's image store");
  auto data_dir = std::make_shared<std::string>("stash-data");
  auto archive = std::make_shared<std::string>();
  load->add_option("--data-dir", *data_dir, "The data directory of `stash server`")
      ->capture_default_str();
  load->add_option("FILE", *archive,
                   "OCI or docker archive (podman save, buildah push oci-archive:)")
      ->required();
  load->callback([=] { *exit_code = LoadImage(*data_dir, *archive); });
}

}  // namespace stash::cli
