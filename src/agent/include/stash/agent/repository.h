// Where a container's paths and a Repository's backend are on this node.
//
// PathMap (engine's, shared with `stash backup`): container path → host
// directory for the containers the embedded node runs (env STASH_PATH_MAP).
//
// ResolveRepository: the restic repository URL and environment for a Stash
// Repository and its storage Secret (stash-api.md §1.1).
//
// Thread-safety: value types and pure functions.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "stash/agent/backup_runner.h"
#include "stash/apis/core.h"
#include "stash/apis/repository.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/engine/path_map.h"
#include "stash/repo/repository.h"

namespace stash::agent {

using engine::kPathMapEnv;
inline constexpr const char* kDataDirEnv = "STASH_DATA_DIR";

using PathMap = engine::PathMap;

// Host directory of a PVC under the embedded node's data dir.
std::string VolumeDir(const std::string& data_dir, const std::string& ns, const std::string& claim);

// `data_dir` non-empty: embedded mode (local backends live on this host).
Result<RepoTarget> ResolveRepository(const apis::Repository& repository, const apis::Secret& secret,
                                     const std::string& data_dir);

// Opens the restic repository of `target` in this process (no restic
// process): restic's variables come from `env` overlaid by target.env (the
// storage Secret). kNotFound when nothing is initialised there yet;
// kUnauthorized for a wrong password. With `init`, creates it instead
// (kAlreadyExists when there is one), making a local directory first.
// `opts` gives key and pack settings; its clock and random are set here.
// `cache_dir` non-empty: through restic's local cache there (snapshots,
// index files and tree packs kept between sessions). `cancel`, when it
// becomes true, stops the remote store's transfers in flight.
Result<std::unique_ptr<repo::Repository>> OpenRepository(const RepoTarget& target,
                                                         const EnvMap& env, Clock& clock,
                                                         Random& random, repo::Options opts = {},
                                                         bool init = false,
                                                         const std::string& cache_dir = "",
                                                         const std::atomic<bool>* cancel = nullptr);

}  // namespace stash::agent
