// RestoreInit: `stash run-restore`, what Stash's `stash-init` init container
// (and restore Job) does on one host (stash-api.md §4):
//  - nothing when the RestoreSession is gone or final, or this host's stats
//    already say Succeeded or Failed (a restarted pod does not restore twice);
//  - otherwise, holding the Lease `lock-<kind>-<name>-restore` (per host for
//    a StatefulSet, whose hosts differ) so replicas sharing a host restore it
//    once: the host's stats Running, then the in-process engine restore by
//    the session's rules (engine::RestoreHost) through the container's path
//    map, then stats Succeeded/Failed with the duration or the reason, and the
//    event "restore succeeded for host …" / "restore failed for host …"
//    (source `Restore Init-Container`).
// A failure that may pass (the store unreachable, the repository locked by a
// prune) is returned without touching the stats, so the container fails and
// the node retries it with back-off; any other failure is recorded as the
// host's Failed stats first (Stash then lets the pod start on its retry).
// A call the API server denies (401/403) is one that may pass: besides the
// log, the RestoreSession gets condition StashInitContainerAuthorized False
// with the server's words (verb, resource, namespace, ServiceAccount) and
// the Role to grant it in, and a Warning "Permission Denied" event (either
// write may be denied too); the first run that works sets it True again.
//
// Thread-safety: Run on one thread.
#pragma once

#include <atomic>
#include <string>

#include "stash/agent/process.h"
#include "stash/apis/events.h"
#include "stash/apis/restore.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/engine/path_map.h"
#include "stash/engine/restore_rules.h"
#include "stash/kube/client.h"

namespace stash::agent {

struct RestoreInitOptions {
  std::string ns;            // the pod's namespace, also the RestoreSession's
  std::string invoker_name;  // the RestoreSession
  std::string target_kind, target_name;
  std::string pod_name, node_name;
  // The host restored; empty: Stash's name for this pod (host-<ordinal> for
  // a StatefulSet's pod, the node for a DaemonSet's, else host-0).
  std::string host;
  std::string data_dir;  // non-empty on the embedded node
  // Run by a restore Job (a PVC target, volumeClaimTemplates) rather than as
  // the workload's stash-init init container: what the condition, event and
  // log say was refused.
  bool job = false;
  engine::PathMap path_map;
  EnvMap env;  // restic's variables beside the storage Secret's
  Duration lease_duration = std::chrono::seconds(15);
  Duration poll = std::chrono::seconds(2);  // while another replica restores
};

enum class RestoreOutcome {
  kRestored,  // this run restored the host
  kSkipped,   // nothing to do (final session, host done, or no rule for it)
  kFailed,    // recorded as Failed in the session
};

class RestoreInit {
 public:
  RestoreInit(const kube::Client& client, Clock& clock, Random& random, RestoreInitOptions opts);

  // One attempt; see above. An error: the host was not restored and the
  // reason is not recorded (retry).
  Result<RestoreOutcome> Run(const std::atomic<bool>& stop);

  std::string HostName() const;
  std::string LeaseName() const;
  // Why the last Run ended kFailed (as recorded in the host's stats).
  const std::string& failure() const { return failure_; }

 private:
  Result<RestoreOutcome> RunOnce(const std::atomic<bool>& stop);
  // The StashInitContainerAuthorized condition and the Warning event of a
  // denial (401/403) on the RestoreSession; True again once a run works.
  void ReportAccess(const Status& s);
  // Whether the session or this host is done; *session gets the object.
  Result<bool> Done(apis::RestoreSession* session);
  Result<RestoreOutcome> Restore(const apis::RestoreSession& session);
  // Upserts this host's entry of status.stats (read-modify-write on the
  // resourceVersion, so concurrent hosts do not lose each other's entries).
  Status SetStats(const apis::HostRestoreStats& entry);
  Result<RestoreOutcome> Fail(const apis::RestoreSession& session, const std::string& reason,
                              SystemTime started);

  const kube::Client& client_;
  Clock& clock_;
  Random& random_;
  const RestoreInitOptions opts_;
  apis::EventRecorder events_;
  std::string failure_;
};

}  // namespace stash::agent
