#include "volumes.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "object_meta.h"

namespace stash::api {

namespace fs = std::filesystem;

namespace {

const char* kClaims = "/persistentvolumeclaims";
const char* kVolumes = "/persistentvolumes";
const char* kClasses = "storage.k8s.io/storageclasses";
const char* kPvcProtection = "kubernetes.io/pvc-protection";
const char* kPvProtection = "kubernetes.io/pv-protection";
const char* kProvisionedBy = "pv.kubernetes.io/provisioned-by";
const char* kDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";
const char* kComponent = "persistentvolume-controller";

std::string Str(const json& obj, const json::json_pointer& p) {
  if (!obj.contains(p)) return "";
  const json& v = obj.at(p);
  return v.is_string() ? v.get<std::string>() : "";
}

std::string DefaultClassName(Store& store) {
  for (const json& sc : store.List(kClasses, "", nullptr)) {
    if (Str(sc, json::json_pointer("/metadata/annotations/storageclass.kubernetes.io~1is-"
                                   "default-class")) == "true") {
      return MetaField(sc, "name");
    }
  }
  return "";
}

bool Terminal(const json& pod) {
  std::string phase = Str(pod, "/status/phase"_json_pointer);
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

void AdmitVolumeObject(const std::string& resource_key, Store& store, json* obj) {
  if (resource_key == kClaims) {
    json& spec = (*obj)["spec"];
    if (!spec.is_object()) spec = json::object();
    bool unset = !spec.contains("storageClassName") || spec["storageClassName"].is_null();
    if (unset && !spec.contains("volumeName")) {
      std::string cls = DefaultClassName(store);
      if (!cls.empty()) spec["storageClassName"] = cls;
    }
    if (!spec.contains("volumeMode")) spec["volumeMode"] = "Filesystem";
    AddFinalizer(obj, kPvcProtection);
    (*obj)["status"] = {{"phase", "Pending"}};
  } else if (resource_key == kVolumes) {
    json& spec = (*obj)["spec"];
    if (!spec.is_object()) spec = json::object();
    if (!spec.contains("volumeMode")) spec["volumeMode"] = "Filesystem";
    if (!spec.contains("persistentVolumeReclaimPolicy")) {
      spec["persistentVolumeReclaimPolicy"] = "Retain";
    }
    AddFinalizer(obj, kPvProtection);
    if (!obj->contains("status")) (*obj)["status"] = {{"phase", "Pending"}};
  }
}

void VolumeController::OnEvent(const WatchEvent& event) {
  const json& object = *event.object;
  const std::string name = MetaField(object, "name");
  if (event.resource == kClaims) {
    ctx_.queue.Add("vol/claim:" + event.ns + "|" + name);
    std::string volume = Str(object, "/spec/volumeName"_json_pointer);
    if (event.type == EventType::kDeleted && !volume.empty()) ctx_.queue.Add("vol/pv:" + volume);
  } else if (event.resource == kVolumes) {
    ctx_.queue.Add("vol/pv:" + name);
    if (event.type == EventType::kDeleted) ctx_.queue.Add("vol/waiting");
  } else if (event.resource == kClasses) {
    if (event.type == EventType::kDeleted) class_checked_ = false;
    ctx_.queue.Add("vol/waiting");
  } else if (event.resource == "/pods") {
    // A pod that ends or goes may release a claim that waits to be deleted.
    if (event.type != EventType::kDeleted && !Terminal(object)) return;
    for (const json& v : object.value("/spec/volumes"_json_pointer, json::array())) {
      std::string claim = Str(v, "/persistentVolumeClaim/claimName"_json_pointer);
      if (!claim.empty()) ctx_.queue.Add("vol/claim:" + event.ns + "|" + claim);
    }
  }
}

void VolumeController::Tick() {
  if (!class_checked_) EnsureDefaultClass();
}

void VolumeController::Process(const std::string& item) {
  if (item == "waiting") {
    // Claims that wait for a class or for an earlier volume's directory.
    for (const json& pvc : ctx_.store.List(kClaims, "", nullptr)) {
      if (Str(pvc, "/spec/volumeName"_json_pointer).empty()) {
        ctx_.queue.Add("vol/claim:" + MetaField(pvc, "namespace") + "|" + MetaField(pvc, "name"));
      }
    }
    return;
  }
  if (item.rfind("claim:", 0) == 0) {
    std::string rest = item.substr(6);
    size_t bar = rest.find('|');
    SyncClaim(rest.substr(0, bar), rest.substr(bar + 1));
  } else if (item.rfind("pv:", 0) == 0) {
    SyncVolume(item.substr(3));
  }
}

void VolumeController::EnsureDefaultClass() {
  class_checked_ = true;
  auto info = ctx_.ResourceForKey(kClasses);
  if (!info || ctx_.store.Get(kClasses, "", kDefaultStorageClass)) return;
  json sc = {
      {"apiVersion", "storage.k8s.io/v1"},
      {"kind", "StorageClass"},
      {"metadata",
       {{"name", kDefaultStorageClass}, {"annotations", {{kDefaultClassAnnotation, "true"}}}}},
      {"provisioner", kHostPathProvisioner},
      {"reclaimPolicy", "Delete"},
      {"volumeBindingMode", "Immediate"}};
  auto r = ctx_.handler.CreateObject(*info, "", sc);
  if (!r.ok() && r.status().code() != Code::kAlreadyExists) {
    spdlog::warn("volumes: creating the default StorageClass: {}", r.status().ToString());
    class_checked_ = false;
  }
}

bool VolumeController::ClaimInUse(const std::string& ns, const std::string& name) {
  for (const json& pod : ctx_.store.List("/pods", ns, nullptr)) {
    if (Terminal(pod)) continue;
    for (const json& v : pod.value("/spec/volumes"_json_pointer, json::array())) {
      if (Str(v, "/persistentVolumeClaim/claimName"_json_pointer) == name) return true;
    }
  }
  return false;
}

bool VolumeController::Owned(const std::string& path) const {
  if (ctx_.options.volume_root.empty() || path.empty()) return false;
  std::error_code ec;
  std::string root = fs::weakly_canonical(ctx_.options.volume_root, ec).string();
  std::string p = fs::weakly_canonical(path, ec).string();
  return !ec && p.size() > root.size() + 1 && p.compare(0, root.size() + 1, root + "/") == 0;
}

void VolumeController::SyncClaim(const std::string& ns, const std::string& name) {
  auto pvc = ctx_.store.Get(kClaims, ns, name);
  if (!pvc) return;
  auto info = ctx_.ResourceForKey(kClaims);
  if (!info) return;
  if (IsTerminating(*pvc)) {
    if (HasFinalizer(*pvc, kPvcProtection) && !ClaimInUse(ns, name)) {
      auto r = ctx_.handler.ModifyObject(*info, ns, name, MetaField(*pvc, "uid"), [](json* o) {
        RemoveFinalizer(o, kPvcProtection);
        return Status::Ok();
      });
      if (!r.ok()) spdlog::warn("volumes: claim {}/{}: {}", ns, name, r.status().ToString());
    }
    return;
  }
  std::string volume = Str(*pvc, "/spec/volumeName"_json_pointer);
  if (!volume.empty()) {
    auto pv = ctx_.store.Get(kVolumes, "", volume);
    std::string bound_uid = pv ? Str(*pv, "/spec/claimRef/uid"_json_pointer) : "";
    if (pv && (bound_uid.empty() || bound_uid == MetaField(*pvc, "uid"))) {
      Bind(*pvc, *pv);
    } else if (!pv && Str(*pvc, "/status/phase"_json_pointer) == "Bound") {
      auto r = ctx_.handler.ModifyObject(*info, ns, name, MetaField(*pvc, "uid"), [](json* o) {
        (*o)["status"]["phase"] = "Lost";
        return Status::Ok();
      });
      if (r.ok()) {
        ctx_.RecordEvent(*pvc, "Warning", "ClaimLost",
                         "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                         kComponent);
      }
    }
    return;
  }
  std::string cls = Str(*pvc, "/spec/storageClassName"_json_pointer);
  auto sc = cls.empty() ? std::nullopt : ctx_.store.Get(kClasses, "", cls);
  if (!sc || sc->value("provisioner", "") != kHostPathProvisioner ||
      ctx_.options.volume_root.empty()) {
    // Nothing here can provide it; say so once, as the PV controller does.
    if (reported_.insert(MetaField(*pvc, "uid")).second) {
      std::string why =
          cls.empty() ? "no persistent volumes available for this claim and no storage class is set"
          : !sc       ? "storageclass.storage.k8s.io \"" + cls + "\" not found"
          : ctx_.options.volume_root.empty()
              ? "this server runs no volume provisioner"
              : "the storage class's provisioner \"" + sc->value("provisioner", "") +
                    "\" does not run here; the embedded node provisions \"" + kHostPathProvisioner +
                    "\" (StorageClass \"" + kDefaultStorageClass + "\")";
      ctx_.RecordEvent(*pvc, "Warning", cls.empty() ? "FailedBinding" : "ProvisioningFailed", why,
                       kComponent);
    }
    return;
  }
  Provision(*pvc, *sc);
}

void VolumeController::Provision(const json& pvc, const json& sc) {
  const std::string ns = MetaField(pvc, "namespace"), name = MetaField(pvc, "name");
  const std::string uid = MetaField(pvc, "uid");
  const std::string pv_name = "pvc-" + uid;
  if (auto existing = ctx_.store.Get(kVolumes, "", pv_name)) {
    Bind(pvc, *existing);
    return;
  }
  const std::string path = ctx_.options.volume_root + "/" + ns + "/" + name;
  for (const json& pv : ctx_.store.List(kVolumes, "", nullptr)) {
    if (Str(pv, "/spec/hostPath/path"_json_pointer) == path &&
        Str(pv, "/spec/claimRef/uid"_json_pointer) != uid) {
      // An earlier claim's volume still has the directory; wait for its
      // reclaim (its deletion or move re-queues the waiting claims).
      ctx_.queue.Add("vol/claim:" + ns + "|" + name, std::chrono::seconds(2));
      return;
    }
  }
  std::error_code ec;
  // 0777 as Kubernetes' hostPath and local-path provisioners make it (the
  // server's umask is 077): a pod running as any user can write its claim.
  // The directories above it stay the server's alone.
  if (fs::create_directories(path, ec) && !ec) fs::permissions(path, fs::perms::all, ec);
  if (ec) {
    ctx_.RecordEvent(pvc, "Warning", "ProvisioningFailed",
                     "failed to provision volume with StorageClass \"" + MetaField(sc, "name") +
                         "\": creating " + path + ": " + ec.message(),
                     kHostPathProvisioner);
    ctx_.queue.Add("vol/claim:" + ns + "|" + name, std::chrono::seconds(5));
    return;
  }
  json storage = pvc.value("/spec/resources/requests/storage"_json_pointer, json("0"));
  json modes = pvc.value("/spec/accessModes"_json_pointer, json::array({"ReadWriteOnce"}));
  json pv = {
      {"apiVersion", "v1"},
      {"kind", "PersistentVolume"},
      {"metadata", {{"name", pv_name}, {"annotations", {{kProvisionedBy, kHostPathProvisioner}}}}},
      {"spec",
       {{"capacity", {{"storage", storage}}},
        {"accessModes", modes},
        {"persistentVolumeReclaimPolicy", sc.value("reclaimPolicy", "Delete")},
        {"storageClassName", MetaField(sc, "name")},
        {"volumeMode", pvc.value("/spec/volumeMode"_json_pointer, json("Filesystem"))},
        {"hostPath", {{"path", path}, {"type", "DirectoryOrCreate"}}},
        {"claimRef",
         {{"kind", "PersistentVolumeClaim"},
          {"apiVersion", "v1"},
          {"namespace", ns},
          {"name", name},
          {"uid", uid},
          {"resourceVersion", MetaField(pvc, "resourceVersion")}}}}},
      {"status", {{"phase", "Bound"}}}};
  auto info = ctx_.ResourceForKey(kVolumes);
  if (!info) return;
  auto created = ctx_.handler.CreateObject(*info, "", pv);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
    spdlog::warn("volumes: creating {} for {}/{}: {}", pv_name, ns, name,
                 created.status().ToString());
    ctx_.queue.Add("vol/claim:" + ns + "|" + name, std::chrono::seconds(1));
    return;
  }
  ctx_.RecordEvent(pvc, "Normal", "ProvisioningSucceeded",
                   "Successfully provisioned volume " + pv_name + " (" + path + ")",
                   kHostPathProvisioner);
  if (auto stored = ctx_.store.Get(kVolumes, "", pv_name)) Bind(pvc, *stored);
}

void VolumeController::Bind(const json& pvc, const json& pv) {
  const std::string ns = MetaField(pvc, "namespace"), name = MetaField(pvc, "name");
  const std::string pv_name = MetaField(pv, "name");
  auto pv_info = ctx_.ResourceForKey(kVolumes);
  auto pvc_info = ctx_.ResourceForKey(kClaims);
  if (!pv_info || !pvc_info) return;
  auto v = ctx_.handler.ModifyObject(*pv_info, "", pv_name, MetaField(pv, "uid"), [&](json* o) {
    if (Str(*o, "/spec/claimRef/uid"_json_pointer).empty()) {
      (*o)["spec"]["claimRef"] = {{"kind", "PersistentVolumeClaim"},
                                  {"apiVersion", "v1"},
                                  {"namespace", ns},
                                  {"name", name},
                                  {"uid", MetaField(pvc, "uid")},
                                  {"resourceVersion", MetaField(pvc, "resourceVersion")}};
    }
    (*o)["status"]["phase"] = "Bound";
    return Status::Ok();
  });
  if (!v.ok()) {
    spdlog::warn("volumes: binding {}: {}", pv_name, v.status().ToString());
    return;
  }
  const std::string provisioner =
      Str(pv, json::json_pointer("/metadata/annotations/pv.kubernetes.io~1provisioned-by"));
  auto c = ctx_.handler.ModifyObject(*pvc_info, ns, name, MetaField(pvc, "uid"), [&](json* o) {
    (*o)["spec"]["volumeName"] = pv_name;
    json& ann = (*o)["metadata"]["annotations"];
    ann["pv.kubernetes.io/bind-completed"] = "yes";
    ann["pv.kubernetes.io/bound-by-controller"] = "yes";
    if (!provisioner.empty()) {
      ann["volume.beta.kubernetes.io/storage-provisioner"] = provisioner;
      ann["volume.kubernetes.io/storage-provisioner"] = provisioner;
    }
    (*o)["status"] = {{"phase", "Bound"},
                      {"accessModes", pv.value("/spec/accessModes"_json_pointer, json::array())},
                      {"capacity", pv.value("/spec/capacity"_json_pointer, json::object())}};
    return Status::Ok();
  });
  if (!c.ok() && c.status().code() != Code::kNotFound) {
    spdlog::warn("volumes: binding claim {}/{}: {}", ns, name, c.status().ToString());
  }
}

void VolumeController::SyncVolume(const std::string& name) {
  auto pv = ctx_.store.Get(kVolumes, "", name);
  if (!pv) return;
  auto info = ctx_.ResourceForKey(kVolumes);
  if (!info) return;
  const std::string uid = MetaField(*pv, "uid");
  const std::string phase = Str(*pv, "/status/phase"_json_pointer);
  auto set_phase = [&](const std::string& p) {
    auto r = ctx_.handler.ModifyObject(*info, "", name, uid, [&](json* o) {
      (*o)["status"]["phase"] = p;
      return Status::Ok();
    });
    if (!r.ok()) spdlog::warn("volumes: {}: {}", name, r.status().ToString());
    return r.ok();
  };
  if (IsTerminating(*pv)) {
    // kubernetes.io/pv-protection: a bound volume stays until its claim goes.
    if (HasFinalizer(*pv, kPvProtection) && phase != "Bound") {
      auto r = ctx_.handler.ModifyObject(*info, "", name, uid, [](json* o) {
        RemoveFinalizer(o, kPvProtection);
        return Status::Ok();
      });
      if (!r.ok()) spdlog::warn("volumes: {}: {}", name, r.status().ToString());
    }
    if (phase != "Bound") return;
  }
  std::string claim_ns = Str(*pv, "/spec/claimRef/namespace"_json_pointer);
  std::string claim = Str(*pv, "/spec/claimRef/name"_json_pointer);
  if (claim.empty()) {
    if (phase != "Available") set_phase("Available");
    return;
  }
  auto pvc = ctx_.store.Get(kClaims, claim_ns, claim);
  std::string claim_uid = Str(*pv, "/spec/claimRef/uid"_json_pointer);
  if (pvc && (claim_uid.empty() || claim_uid == MetaField(*pvc, "uid"))) {
    if (phase != "Bound") set_phase("Bound");
    if (Str(*pvc, "/spec/volumeName"_json_pointer).empty()) {
      ctx_.queue.Add("vol/claim:" + claim_ns + "|" + claim);
    }
    return;
  }
  if (phase == "Bound" || phase == "Pending" || phase.empty()) {
    if (!set_phase("Released")) return;
    pv = ctx_.store.Get(kVolumes, "", name);
    if (!pv) return;
  }
  if (Str(*pv, "/status/phase"_json_pointer) == "Released") Reclaim(*pv);
}

void VolumeController::Reclaim(const json& pv) {
  const std::string name = MetaField(pv, "name");
  auto info = ctx_.ResourceForKey(kVolumes);
  if (!info) return;
  const std::string policy = Str(pv, "/spec/persistentVolumeReclaimPolicy"_json_pointer);
  const std::string path = Str(pv, "/spec/hostPath/path"_json_pointer);
  const bool ours =
      Str(pv, json::json_pointer("/metadata/annotations/pv.kubernetes.io~1provisioned-by")) ==
          kHostPathProvisioner &&
      Owned(path);
  std::error_code ec;
  if (policy == "Delete") {
    if (!ours) {
      if (!IsTerminating(pv)) {
        ctx_.RecordEvent(pv, "Warning", "VolumeFailedDelete",
                         "Error getting deleter volume plugin for volume \"" + name +
                             "\": no deletable volume plugin matched",
                         kComponent);
        auto r = ctx_.handler.ModifyObject(*info, "", name, MetaField(pv, "uid"), [](json* o) {
          (*o)["status"]["phase"] = "Failed";
          return Status::Ok();
        });
        r.status().IgnoreError();
      }
      return;
    }
    fs::remove_all(path, ec);
    if (ec) {
      ctx_.RecordEvent(pv, "Warning", "VolumeFailedDelete",
                       "removing " + path + ": " + ec.message(), kHostPathProvisioner);
      ctx_.queue.Add("vol/pv:" + name, std::chrono::seconds(5));
      return;
    }
    spdlog::info("volumes: {} reclaimed (Delete): removed {}", name, path);
    DeleteOptions options;
    options.precondition_uid = MetaField(pv, "uid");
    auto r = ctx_.handler.DeleteWithOptions(*info, "", name, options);
    if (!r.ok() && r.status().code() != Code::kNotFound) {
      spdlog::warn("volumes: deleting {}: {}", name, r.status().ToString());
    }
    ctx_.queue.Add("vol/waiting");
    return;
  }
  if (policy == "Retain") {
    // Keep the data, but out of the way of a new claim of the same name.
    const std::string parked = ctx_.options.volume_root + "/.released/" + name;
    if (!ours || path == parked) return;
    fs::create_directories(ctx_.options.volume_root + "/.released", ec);
    fs::rename(path, parked, ec);
    if (ec && fs::exists(path)) {
      spdlog::warn("volumes: moving {} to {}: {}", path, parked, ec.message());
      ctx_.queue.Add("vol/pv:" + name, std::chrono::seconds(5));
      return;
    }
    auto r = ctx_.handler.ModifyObject(*info, "", name, MetaField(pv, "uid"), [&](json* o) {
      (*o)["spec"]["hostPath"]["path"] = parked;
      return Status::Ok();
    });
    if (r.ok()) {
      ctx_.RecordEvent(pv, "Normal", "VolumeRetained",
                       "the claim is gone; the data is kept at " + parked, kComponent);
    }
    ctx_.queue.Add("vol/waiting");
    return;
  }
  if (!reported_.insert(MetaField(pv, "uid")).second) return;
  ctx_.RecordEvent(pv, "Warning", "VolumeFailedRecycle",
                   "reclaim policy \"" + policy + "\" is not supported here; use Retain or Delete",
                   kComponent);
}

}  // namespace stash::api
