// Validation of the Stash kinds, shared by the admission plugins (the
// embedded server refuses a bad object at `kubectl apply`; the operator
// serves the same plugins as a validating webhook in cluster mode) and by the
// BackupConfiguration controller (an object that got past admission, e.g.
// on a cluster without the webhook, turns Invalid with the same messages).
//
// Messages follow Stash's validator ("spec.schedule <value> is invalid.
// Reason: <why>"); the schedule is parsed by the operator's own cron parser
// (kube::ParseCron), so what admission accepts the operator can schedule.
//
// Thread-safety: pure functions; the plugins are immutable.
#pragma once

#include <string>
#include <vector>

#include "stash/api/admission.h"
#include "stash/api/webhook_server.h"
#include "stash/apis/backup.h"
#include "stash/apis/repository.h"

namespace stash::controller {

// Problems of a BackupConfiguration's spec on its own: schedule, target,
// repository reference, retention policy. Empty when valid.
std::vector<std::string> ValidateBackupConfigurationSpec(const apis::BackupConfigurationSpec& spec);
// Problems of a Repository's spec: the backend (exactly one, with its
// required fields, one this engine supports) and Stash's own rules (no
// wipeOut for local/B2, mountPath not /stash).
std::vector<std::string> ValidateRepositorySpec(const apis::RepositorySpec& spec);

// The validating admission plugins of BackupConfiguration, Repository,
// BackupSession and RestoreSession, with the paths under which Stash's
// operator serves them as webhooks
// (/apis/admission.stash.appscode.com/<version>/<kind>validators).
std::vector<api::WebhookServer::Route> StashAdmissionRoutes();
api::AdmissionPlugins StashAdmissionPlugins();

}  // namespace stash::controller
