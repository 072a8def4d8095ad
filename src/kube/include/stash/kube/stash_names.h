// Names shared by the operator, the sidecar and the node runtime: the image
// that marks stash's own containers, labels, annotations, finalizers and the
// event sources Stash's users know from its documentation.
//
// Thread-safety: constants only.
#pragma once

#include <string_view>

namespace stash::kube {

// Containers with this image are stash's own; the embedded node runtime runs
// them as local `stash` processes.
inline constexpr std::string_view kStashImage = "stash.appscode.com/stash:embedded";
inline constexpr std::string_view kSidecarName = "stash";
// Where stash's image has its binary (its entrypoint, scripts/image.sh): the
// command of exec probes in stash's containers.
inline constexpr std::string_view kStashBinaryPath = "/usr/local/bin/stash";
// The backup sidecar's readinessProbe: `stash sidecar-ready`.
inline constexpr std::string_view kSidecarReadyCommand = "sidecar-ready";
inline constexpr std::string_view kFinalizer = "stash.appscode.com";

inline constexpr std::string_view kLabelInvokerType = "stash.appscode.com/invoker-type";
inline constexpr std::string_view kLabelInvokerName = "stash.appscode.com/invoker-name";
inline constexpr std::string_view kLabelBackupConfiguration =
    "stash.appscode.com/backup-configuration";
inline constexpr std::string_view kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kLabelComponent = "app.kubernetes.io/component";
inline constexpr std::string_view kManagedByValue = "stash.appscode.com";
inline constexpr std::string_view kComponentBackup = "stash-backup";
inline constexpr std::string_view kAnnotationInvokerHash =
    "stash.appscode.com/last-applied-backup-invoker-hash";
inline constexpr std::string_view kAnnotationInvoker =
    "stash.appscode.com/last-applied-backup-invoker";
inline constexpr std::string_view kAnnotationInvokerKind =
    "stash.appscode.com/last-applied-backup-invoker-kind";

inline constexpr std::string_view kSourceBackupConfigurationController =
    "BackupConfiguration Controller";
inline constexpr std::string_view kSourceBackupSessionController = "BackupSession Controller";
inline constexpr std::string_view kSourceBackupSidecar = "Backup Sidecar";
inline constexpr std::string_view kSourceTriggeringCronJob = "Backup Triggering CronJob";
inline constexpr std::string_view kSourceStatusUpdater = "Status Updater";

// Volume through which a local-backend repository is mounted into the sidecar.
inline constexpr std::string_view kLocalBackendVolume = "stash-local-backend";

}  // namespace stash::kube
