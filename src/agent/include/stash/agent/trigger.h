// What the trigger CronJob runs at each tick (`stash create-backupsession`):
// a BackupSession `<invoker>-<unix seconds>` for the BackupConfiguration, or,
// while it is paused, no session and a Normal `Backup Skipped` event on it
// (the 2019 pause semantics of the Pause Backup guide); likewise while a
// RestoreSession restores the same workload.
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

// Returns the name of the created session, or "" when the invoker is paused
// or a RestoreSession is restoring its target (a Normal `Backup Skipped`
// event says which; spec.paused is left as it is).
Result<std::string> CreateBackupSession(const kube::Client& client, Clock& clock,
                                        const TriggerOptions& opts);

// The name of a RestoreSession of `ns` restoring workload kind/name (not yet
// final, not Invalid, not being deleted), or "".
Result<std::string> RestoreInProgress(const kube::Client& client, const std::string& ns,
                                      const std::string& kind, const std::string& name);

}  // namespace stash::agent
