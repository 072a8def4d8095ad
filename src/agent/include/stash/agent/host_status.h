// Per-host status of a BackupSession whose target has several hosts: the
// replicas of a StatefulSet (host-<ordinal>) or the pods of a DaemonSet (one
// per node) each back up their own volume and report into one session.
// Every host writes status.targets[].stats (its hostname, phase, snapshots,
// duration, error) with a read-modify-write under optimistic concurrency:
// the write carries the resourceVersion it was computed from, and a
// conflict (another host wrote meanwhile) re-reads and merges again, so no
// host's entry is lost. The phases follow Stash's rules
// (pkg/invoker/backupsession.go): a target is Running until succeeded +
// failed hosts == totalHosts, then Failed if any host failed, else
// Succeeded; the session is Failed as soon as a target is, and Succeeded
// only once every target succeeded and the post-backup actions (retention,
// integrity check) ran without a False condition.
//
// Thread-safety: the functions are pure or go through kube::Client only;
// any number may run at once (that is what they are for).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "stash/apis/backup.h"
#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::agent {

// What one host of one target reports when its backup ended.
struct HostReport {
  apis::TargetRef ref;      // the target's
  int32_t total_hosts = 1;  // used when the session has none yet
  apis::HostBackupStats stats;
  std::vector<apis::Condition> target_conditions;   // the host's hooks'
  std::vector<apis::Condition> session_conditions;  // BackendRepositoryInitialized, ...
};

// Running, Succeeded or Failed of a target from its hosts (Pending while
// totalHosts is unset).
std::string TargetPhase(const apis::BackupTargetStatus& target);

// The session's phase from its targets and conditions. `post_actions_done`:
// whether the post-backup actions (retention, check) of a fully succeeded
// target have run; until then such a session stays Running.
std::string SessionPhase(const apis::BackupSessionStatus& status, bool post_actions_done);

// `status` with `report` merged: the target found by ref (added when
// missing, with totalHosts), the host's entry replaced by hostname, the
// conditions upserted by type, the target's and the session's phase
// recomputed (post-backup actions not yet run).
apis::BackupSessionStatus MergeHostReport(apis::BackupSessionStatus status,
                                          const HostReport& report);

// Whether all hosts of every target have reported.
bool AllHostsReported(const apis::BackupSessionStatus& status);

// Writes `mutate`'s change of the session's status conditionally on the
// resourceVersion it was computed from, starting from `seen` (e.g. the
// informer's copy); on a conflict it reads the session again and calls
// `mutate` again (at most `attempts` times). `mutate` returns false when
// there is nothing to write (the session is returned as read). The whole
// status is written (lists replace what the server has), and `extra` (a
// JSON merge patch of status, e.g. {"progress": null}) is merged into it.
Result<apis::BackupSession> UpdateSessionStatus(
    const kube::Client& client, apis::BackupSession seen,
    const std::function<bool(apis::BackupSessionStatus*)>& mutate,
    const nlohmann::json& extra = nlohmann::json::object(), int attempts = 20);

// Merges `report` into the session (UpdateSessionStatus with
// MergeHostReport); sessionDuration is set (from the session's creation to
// `now`) once the merge made the phase final. status.progress is cleared:
// the reporting host's backup is over.
Result<apis::BackupSession> RecordHostReport(const kube::Client& client,
                                             const apis::BackupSession& seen,
                                             const HostReport& report, SystemTime now);

// The last host, after the post-backup actions of a session whose hosts all
// succeeded: their `conditions` upserted, the final phase (Succeeded, or
// Failed for a False one), sessionDuration, no progress.
Result<apis::BackupSession> RecordPostBackupActions(const kube::Client& client,
                                                    const apis::BackupSession& seen,
                                                    const std::vector<apis::Condition>& conditions,
                                                    SystemTime now);

}  // namespace stash::agent
