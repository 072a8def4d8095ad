// The backends the conformance suite runs against, each with a factory for a
// fresh, empty repository and a reason when its peer is unavailable. Remote
// peers are started lazily, once per test process, and stopped at exit.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "stash/backend/backend.h"

namespace stash::backend {

struct ConformanceTarget {
  std::string name;
  // Empty when the target can run; otherwise why not (peer missing, …).
  std::function<std::string()> unavailable;
  // A fresh repository whose location includes `unique`.
  std::function<Result<BackendPtr>(const std::string& unique)> make;
};

std::vector<const ConformanceTarget*> AllConformanceTargets();

// CI=true: a missing peer fails the test instead of skipping it.
bool PeersRequired();

// Ports of the shared peers (started on first use); 0 with *why set when the
// peer is unavailable.
int RestPeerPort(std::string* why);
int S3PeerPort(std::string* why);

// A scratch directory removed at process exit.
std::string ScratchDir();

}  // namespace stash::backend
