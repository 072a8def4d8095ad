// PathMap: where a container's paths live on this host. The embedded node
// runtime runs stash's containers as local processes and passes each
// container's volumeMounts as a JSON object from the container path to the
// host directory (env STASH_PATH_MAP). Backup reads through the map but
// records the container paths, so the snapshot looks as if restic had run
// inside the container. Without a map (a real pod) paths are used as given.
//
//   auto map = PathMap::Parse(R"({"/source/data": "/var/stash/volumes/demo/pvc"})");
//   map->ToHost("/source/data/a.txt");  // "/var/stash/volumes/demo/pvc/a.txt"
//
// Thread-safety: a value type; const methods may be called concurrently.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "stash/core/result.h"

namespace stash::engine {

inline constexpr const char* kPathMapEnv = "STASH_PATH_MAP";

class PathMap {
 public:
  PathMap() = default;
  // `json_text` empty: no mapping. Keys must be absolute container paths.
  static Result<PathMap> Parse(const std::string& json_text);
  // Parses env STASH_PATH_MAP (unset: no mapping).
  static Result<PathMap> FromEnvironment();

  // Adds a mount; the container path is cleaned (no trailing slash).
  void Add(std::string container_path, std::string host_path);
  // Longest mount prefix wins; paths under no mount are returned unchanged.
  std::string ToHost(const std::string& container_path) const;
  // Whether `container_path` is a mount point or lies under one.
  bool Covers(const std::string& container_path) const;
  // Whether a mount point lies strictly below `container_dir` (restore walks
  // such a directory of the container's own filesystem to reach the mounts).
  bool HasMountBelow(const std::string& container_dir) const;
  // Mount points directly inside `container_dir` (absolute, cleaned), as
  // (entry name, host directory), sorted by name.
  std::vector<std::pair<std::string, std::string>> MountsIn(const std::string& container_dir) const;

  // Where backup reads the target `path` from: relative paths resolve
  // against the working directory first; without mounts, `path` itself.
  std::string TargetOnHost(const std::string& path) const;

  std::string Serialize() const;
  bool empty() const { return mounts_.empty(); }

 private:
  const std::pair<std::string, std::string>* Longest(const std::string& path) const;

  std::vector<std::pair<std::string, std::string>> mounts_;  // (container, host)
};

}  // namespace stash::engine
