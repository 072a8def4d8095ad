// The pure part of the BackupConfiguration controller: what the operator
// writes, computed from the objects it reads. No I/O, so each rule is unit
// tested: the sidecar container and the pod-template changes, the trigger
// CronJob, status conditions and the phase rule.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

using json = nlohmann::json;

// Condition types and the phase rule of Stash's BackupConfiguration.
inline constexpr std::string_view kBackupTargetFound = "BackupTargetFound";
inline constexpr std::string_view kStashSidecarInjected = "StashSidecarInjected";
inline constexpr std::string_view kCronJobCreated = "CronJobCreated";
inline constexpr std::string_view kRepositoryFound = "RepositoryFound";
inline constexpr std::string_view kBackendSecretFound = "BackendSecretFound";
inline constexpr std::string_view kValidationPassed = "ValidationPassed";

// Hash of the BackupConfiguration's spec with `paused` equalised, so pausing
// or resuming never changes the pod template (and never restarts pods).
std::string InvokerHash(const json& bc);

// The `stash` sidecar for `bc` targeting a workload in its namespace; `image`
// is stash's image (`stash operator --image`). The cache is on unless
// spec.tempDir.disableCaching; with a `pushgateway_url` (`stash operator
// --pushgateway-url`) the sidecar pushes each session's metrics there.
json SidecarContainer(const json& bc, std::string_view image = kube::kStashImage,
                      std::string_view pushgateway_url = "");

// Makes the workload's pod template carry the sidecar (and, for a local
// backend, the repository volume). Returns true when `workload` changed.
bool InjectSidecar(json* workload, const json& bc, const json* repository,
                   std::string_view image = kube::kStashImage,
                   std::string_view pushgateway_url = "");
// Removes what InjectSidecar added; returns true when `workload` changed.
bool RemoveSidecar(json* workload);

std::string TriggerCronJobName(std::string_view bc_name);
json TriggerCronJob(const json& bc, std::string_view image = kube::kStashImage);
// True when `existing` differs from `desired` in anything the operator owns.
bool CronJobNeedsUpdate(const json& existing, const json& desired);

// Sets (upserts by type) a condition; lastTransitionTime moves only when the
// status flips. Returns true when anything changed.
bool SetCondition(json* conditions, std::string_view type, bool status, std::string_view reason,
                  std::string_view message, SystemTime now, int64_t generation);
// "True"/"False"/"" (absent).
std::string ConditionStatus(const json& conditions, std::string_view type);

// Ready, NotReady or Invalid (stash-api.md §1.3, except that a failed
// validation wins so the user sees it first): NotReady unless repository,
// secret and target are found; Invalid when validation failed; Ready when
// validation passed and the CronJob exists; else NotReady.
std::string ComputePhase(const json& conditions);

}  // namespace stash::controller
