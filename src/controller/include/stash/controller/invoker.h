// The pure part of the BackupConfiguration controller: what the operator
// writes, computed from the objects it reads. No I/O, so each rule is unit
// tested: the sidecar container and the pod-template changes, the trigger
// CronJob and the phase rule.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stash/apis/backup.h"
#include "stash/apis/batch.h"
#include "stash/apis/core.h"
#include "stash/apis/repository.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

// Condition types and the phase rule of Stash's BackupConfiguration.
inline constexpr std::string_view kBackupTargetFound = "BackupTargetFound";
inline constexpr std::string_view kStashSidecarInjected = "StashSidecarInjected";
inline constexpr std::string_view kCronJobCreated = "CronJobCreated";
inline constexpr std::string_view kRepositoryFound = "RepositoryFound";
inline constexpr std::string_view kBackendSecretFound = "BackendSecretFound";
inline constexpr std::string_view kValidationPassed = "ValidationPassed";

// Hash of the BackupConfiguration's spec with `paused` equalised, so pausing
// or resuming never changes the pod template (and never restarts pods).
std::string InvokerHash(const apis::BackupConfiguration& bc);

// The `stash` sidecar for `bc` targeting a workload in its namespace; `image`
// is stash's image (`stash operator --image`). The cache is on unless
// spec.tempDir.disableCaching; with a `pushgateway_url` (`stash operator
// --pushgateway-url`) the sidecar pushes each session's metrics there. It
// runs as root (uid and gid 0: it reads every file of the workload) unless
// spec.runtimeSettings.container.securityContext is set, which it gets.
apis::Container SidecarContainer(const apis::BackupConfiguration& bc,
                                 std::string_view image = kube::kStashImage,
                                 std::string_view pushgateway_url = "");

// The securityContext of Stash's own containers (the backup sidecar, the
// restore init container and Job): the user's
// runtimeSettings.container.securityContext when set, else root (uid and gid
// 0). A backup must read every file of the workload's volumes whoever wrote
// them and write a local repository; a restore keeps the files' owners.
apis::SecurityContext StashContainerSecurityContext(const apis::ContainerRuntimeSettings& settings);

// Makes a workload (its metadata and pod template) carry the sidecar and,
// for a local backend, the repository volume. Returns true when anything
// changed. Members of an existing sidecar that the operator does not set (a
// server's defaults) are kept, so a re-injection changes nothing.
bool InjectSidecar(apis::ObjectMeta* meta, apis::PodTemplateSpec* tmpl,
                   const apis::BackupConfiguration& bc, const apis::Repository* repository,
                   std::string_view image = kube::kStashImage,
                   std::string_view pushgateway_url = "");
// Removes what InjectSidecar added; returns true when anything changed.
bool RemoveSidecar(apis::ObjectMeta* meta, apis::PodTemplateSpec* tmpl);

std::string TriggerCronJobName(std::string_view bc_name);
apis::CronJob TriggerCronJob(const apis::BackupConfiguration& bc,
                             std::string_view image = kube::kStashImage);
// True when `existing` differs from `desired` in anything the operator owns.
bool CronJobNeedsUpdate(const apis::CronJob& existing, const apis::CronJob& desired);
// `existing` with what the operator owns taken from `desired`.
apis::CronJob MergeCronJob(apis::CronJob existing, const apis::CronJob& desired);

// Ready, NotReady or Invalid (stash-api.md §1.3, except that a failed
// validation wins so the user sees it first): NotReady unless repository,
// secret and target are found; Invalid when validation failed; Ready when
// validation passed and the CronJob exists; else NotReady.
std::string ComputePhase(const std::vector<apis::Condition>& conditions);

}  // namespace stash::controller
