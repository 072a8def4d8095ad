// What stash's pods (the backup sidecar, the trigger CronJob, the restore
// init container) say on the object they work for when the API server refuses them a call (401: the
// token is not accepted; 403: a permission is missing): a condition of their
// own, False with the server's words (verb, resource, namespace and
// ServiceAccount, as kube's Forbidden message has them), set True again by
// the first call that works. Stash has no such condition; the names follow
// its own (StashSidecarInjected, CronJobCreated).
//
//   if (IsDenial(s)) SetAuthorized(client, clock, bc, kTriggerAuthorizedCondition, &s, text);
//
// Thread-safety: pure functions over a thread-safe Client.
#pragma once

#include <string>
#include <string_view>

#include "stash/apis/backup.h"
#include "stash/apis/restore.h"
#include "stash/core/clock.h"
#include "stash/core/status.h"
#include "stash/kube/client.h"

namespace stash::agent {

// On the BackupConfiguration: the sidecar's and the trigger CronJob's.
inline constexpr std::string_view kSidecarAuthorizedCondition = "StashSidecarAuthorized";
inline constexpr std::string_view kTriggerAuthorizedCondition = "BackupTriggerAuthorized";
// On the RestoreSession: its init container `stash-init` (the workload's
// pods), or its restore Jobs' pods (a PVC target, volumeClaimTemplates):
// Stash names no condition for either, so one type serves both and its
// message says which was refused.
inline constexpr std::string_view kInitContainerAuthorizedCondition =
    "StashInitContainerAuthorized";

// 401 (a token not accepted) or 403 (a permission missing).
bool IsDenial(const Status& s);

// Sets condition `type` of BackupConfiguration ns/name (read fresh): with
// `denial`, False (reason PermissionDenied, or Unauthorized for a 401) with
// `message`; without, True (PermissionGranted) with `message`, but only
// where it is False (an account never denied adds no condition). Written
// against the version read (the list is written whole), retried on
// conflicts. Needs backupconfigurations/status patch.
Status SetAuthorized(const kube::Client& client, Clock& clock, const std::string& ns,
                     const std::string& name, std::string_view type, const Status* denial,
                     const std::string& message);
// The same on RestoreSession ns/name. Needs restoresessions/status patch.
Status SetRestoreAuthorized(const kube::Client& client, Clock& clock, const std::string& ns,
                            const std::string& name, std::string_view type, const Status* denial,
                            const std::string& message);

// The condition's message for `who` (e.g. "The stash sidecar in pod ns/p"):
// denied, the server's words and the Role the operator makes for it; not
// denied, that it has every permission it used.
std::string AuthorizedMessage(const std::string& who, const Status* denial,
                              const std::string& role);

}  // namespace stash::agent
