// VolumeController: PersistentVolumes for PersistentVolumeClaims, as a
// cluster with a default StorageClass does it.
//  - The default StorageClass `standard` (provisioner kHostPathProvisioner,
//    reclaimPolicy Delete, volumeBindingMode Immediate) exists from the start
//    (re-created if deleted, as an addon manager's EnsureExists).
//  - A claim of a class with that provisioner gets a PersistentVolume
//    `pvc-<claim uid>`: capacity = the claim's request, its access modes, the
//    class's reclaim policy, and a hostPath directory <root>/<ns>/<claim>
//    that the embedded node mounts; then both are Bound. A claim whose
//    directory still belongs to an earlier volume waits until that volume is
//    reclaimed, so a new claim of the same name never sees old data.
//  - When a claim goes (after kubernetes.io/pvc-protection: no pod of its
//    namespace that is not Succeeded/Failed uses it), its volume is Released
//    and reclaimed: Delete removes the directory and the volume; Retain keeps
//    the data, moved to <root>/.released/<volume> (the volume's hostPath
//    follows), for an administrator to recover.
//  - Claims of other classes stay Pending with a ProvisioningFailed event.
//
// Thread-safety: driven by ControllerManager's one thread.
#pragma once

#include <set>
#include <string>

#include "controllers.h"

namespace stash::api {

inline constexpr const char* kHostPathProvisioner = "stash.appscode.com/embedded-hostpath";
inline constexpr const char* kDefaultStorageClass = "standard";

// Admission for claims and volumes at create: the DefaultStorageClass plugin
// (a claim without storageClassName gets the default class) and
// StorageObjectInUseProtection (the protection finalizers).
void AdmitVolumeObject(const std::string& resource_key, Store& store, json* obj);

class VolumeController final : public Controller {
 public:
  explicit VolumeController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "vol"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;
  void Tick() override;

 private:
  void SyncClaim(const std::string& ns, const std::string& name);
  void SyncVolume(const std::string& name);
  void EnsureDefaultClass();
  // Creates the claim's directory and volume, then binds them.
  void Provision(const json& pvc, const json& storage_class);
  void Bind(const json& pvc, const json& pv);
  void Reclaim(const json& pv);
  bool ClaimInUse(const std::string& ns, const std::string& name);
  // Under the volume root (never anything else is removed or moved).
  bool Owned(const std::string& path) const;

  ControllerContext& ctx_;
  bool class_checked_ = false;
  std::set<std::string> reported_;  // uids of objects a Warning was recorded for
};

}  // namespace stash::api
