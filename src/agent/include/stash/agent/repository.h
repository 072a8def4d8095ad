// Where a container's paths and a Repository's backend are on this node.
//
// PathMap: the embedded node runtime runs stash's containers as local
// processes; it passes each container's volumeMounts as a map from the
// container path to the host directory (env STASH_PATH_MAP, a JSON object).
// Without a map (a real pod) paths are used as they are.
//
// ResolveRepository: the restic repository URL and environment for a Stash
// Repository and its storage Secret (stash-api.md §1.1).
//
// Thread-safety: value types and pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "stash/agent/backup_runner.h"
#include "stash/core/result.h"

namespace stash::agent {

inline constexpr const char* kPathMapEnv = "STASH_PATH_MAP";
inline constexpr const char* kDataDirEnv = "STASH_DATA_DIR";

class PathMap {
 public:
  PathMap() = default;
  static Result<PathMap> Parse(const std::string& json_text);
  static Result<PathMap> FromEnvironment();

  void Add(std::string container_path, std::string host_path);
  // Longest mount prefix wins; unmapped paths are returned unchanged.
  std::string ToHost(const std::string& container_path) const;
  std::string Serialize() const;
  bool empty() const { return mounts_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> mounts_;
};

// Host directory of a PVC under the embedded node's data dir.
std::string VolumeDir(const std::string& data_dir, const std::string& ns, const std::string& claim);

// `data_dir` non-empty: embedded mode (local backends live on this host).
Result<RepoTarget> ResolveRepository(const nlohmann::json& repository, const nlohmann::json& secret,
                                     const std::string& data_dir);

}  // namespace stash::agent
