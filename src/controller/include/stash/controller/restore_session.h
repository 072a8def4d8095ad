// The pure part of the RestoreSession controller (stash-api.md §1.5, §4): what
// the operator writes, computed from the objects it reads. No I/O, so each
// rule is unit tested: validation, the `stash-init` init container and the
// pod-template changes of init-container mode, the restore Jobs and claims of
// Job mode, the host count and the phase once hosts report.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/apis/apps.h"
#include "stash/apis/batch.h"
#include "stash/apis/core.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
#include "stash/engine/restore_rules.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

// Condition types of Stash's RestoreSession.
inline constexpr std::string_view kRestoreRepositoryFound = "RepositoryFound";
inline constexpr std::string_view kRestoreBackendSecretFound = "BackendSecretFound";
inline constexpr std::string_view kRestoreValidationPassed = "ValidationPassed";
inline constexpr std::string_view kRestoreTargetFound = "RestoreTargetFound";
inline constexpr std::string_view kStashInitContainerInjected = "StashInitContainerInjected";
inline constexpr std::string_view kRestoreJobCreated = "RestoreJobCreated";
inline constexpr std::string_view kRestoreCompleted = "RestoreCompleted";
inline constexpr std::string_view kDeadlineExceeded = "DeadlineExceeded";

inline constexpr std::string_view kRestoreInitName = "stash-init";
inline constexpr std::string_view kRestoreJobContainer = "stash-restore";
inline constexpr std::string_view kAnnotationRestoreHash =
    "stash.appscode.com/last-applied-restore-invoker-hash";
inline constexpr std::string_view kAnnotationRestoreInvoker =
    "stash.appscode.com/last-applied-restore-invoker";
inline constexpr std::string_view kAnnotationRestoreInvokerKind =
    "stash.appscode.com/last-applied-restore-invoker-kind";
// The volume of a local-backend repository in the restore's pods (its own
// name: the backup sidecar's volume comes and goes with the sidecar).
inline constexpr std::string_view kRestoreLocalBackendVolume = "stash-restore-local-backend";
inline constexpr std::string_view kLabelRestoreSession = "stash.appscode.com/restore-session";
// Where Job mode mounts a claim that target.volumeMounts does not place.
inline constexpr std::string_view kDefaultRestoreMountPath = "/stash-data";

enum class RestoreMode { kInitContainer, kJob };

// The session's rules (target.rules, else the deprecated spec.rules) as the
// engine takes them.
std::vector<engine::RestoreRule> EngineRules(const apis::RestoreSession& session);

// What this project can do of a RestoreSession: kInvalid naming the field and
// the problem (rules as Stash validates them; a target; no hooks, task,
// VolumeSnapshotter driver, interim volume, restic args or pod runtime
// settings, which would otherwise be accepted and ignored; timeOut a Go
// duration).
Status ValidateRestoreSession(const apis::RestoreSession& session);

// Init-container mode for Deployment, StatefulSet and DaemonSet targets; Job
// mode for a PersistentVolumeClaim or volumeClaimTemplates (call after
// ValidateRestoreSession).
RestoreMode ModeOf(const apis::RestoreSession& session);

// Hash of what the restore does (the session's uid and spec): the pod
// template annotation, so re-applying the same session changes nothing and
// a new session rolls the pods once.
std::string RestoreInvokerHash(const apis::RestoreSession& session);

// The `stash-init` container (stash's `image`): `stash run-restore` for the target, the
// target's volumeMounts (plus the local backend's), NODE_NAME and POD_NAME,
// root unless runtimeSettings.container.securityContext says otherwise.
apis::Container RestoreInitContainer(const apis::RestoreSession& session,
                                     const apis::Repository& repository,
                                     std::string_view image = kube::kStashImage);

// Prepends `stash-init` to the template's init containers (replacing an
// earlier one), adds the local backend's volume, and sets the annotations
// on the template and on the workload. kInvalid when a volumeMount names no
// volume of the pod template. Returns whether anything changed.
Result<bool> InjectRestoreInit(apis::PodTemplateSpec* pod_template, apis::ObjectMeta* workload_meta,
                               const apis::RestoreSession& session,
                               const apis::Repository& repository,
                               std::string_view image = kube::kStashImage);
// Removes what InjectRestoreInit added; returns whether anything changed.
bool RemoveRestoreInit(apis::PodTemplateSpec* pod_template, apis::ObjectMeta* workload_meta);

// Job mode. Ordinal -1: the target.ref claim as host-0; otherwise ordinal i
// of volumeClaimTemplates as host-i.
std::string RestoreJobName(const apis::RestoreSession& session, int ordinal);
// The claims of ordinal `i` made from volumeClaimTemplates (`${POD_ORDINAL}`
// in a name replaced by i, else "-i" appended), owned by nobody: restored
// data outlives the session.
std::vector<apis::PersistentVolumeClaim> RestoreClaims(const apis::RestoreSession& session,
                                                       int ordinal);
apis::Job RestoreJob(const apis::RestoreSession& session, const apis::Repository& repository,
                     int ordinal, std::string_view image = kube::kStashImage);

// How many hosts report: 1 for a Deployment (its replicas share host-0) or a
// claim, replicas for a StatefulSet or volumeClaimTemplates, the scheduled
// pods of a DaemonSet (at least 1).
int32_t TotalHosts(const apis::RestoreSession& session, const apis::Workload* workload,
                   int32_t daemonset_scheduled);

// Once `total` hosts have a final stats entry: "Failed" if any failed,
// "Unknown" if any is unknown, else "Succeeded"; "" while hosts are pending.
std::string CompletedPhase(const apis::RestoreSessionStatus& status, int32_t total);

}  // namespace stash::controller
