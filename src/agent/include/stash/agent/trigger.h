// What the trigger CronJob runs at each tick (`stash create-backupsession`):
// a BackupSession `<invoker>-<unix seconds>` for the BackupConfiguration, or,
// while it is paused, no session and a Normal `Backup Skipped` event on it
// (the 2019 pause semantics of the Pause Backup guide).
//
// Thread-safety: a pure function of its arguments and the API server.
#pragma once

#include <string>

#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::agent {

struct TriggerOptions {
  std::string ns;
  std::string invoker_kind = "BackupConfiguration";
  std::string invoker_name;
};

// Returns the name of the created session, or "" when the invoker is paused.
Result<std::string> CreateBackupSession(const kube::Client& client, Clock& clock,
                                        const TriggerOptions& opts);

}  // namespace stash::agent
