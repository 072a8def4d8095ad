#include "stash/controller/restore_session.h"

#include <algorithm>
#include <cctype>

#include "stash/apis/client.h"
#include "stash/controller/invoker.h"
#include "stash/controller/rbac.h"
#include "stash/crypto/sha256.h"
#include "stash/kube/duration.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

using apis::json;

std::string S(std::string_view v) { return std::string(v); }

bool IsWorkloadKind(std::string_view kind) {
  return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet";
}

apis::EnvVar FieldEnv(const std::string& name, const std::string& path) {
  apis::EnvVar e;
  e.name = name;
  e.value_from.emplace();
  e.value_from->field_ref.emplace();
  e.value_from->field_ref->field_path = path;
  return e;
}

const apis::RestoreTarget& TargetOf(const apis::RestoreSession& s) {
  static const apis::RestoreTarget kNone;
  return s.spec.target ? *s.spec.target : kNone;
}

// A template's volume name: its metadata.name without the ordinal
// placeholder ("data-${POD_ORDINAL}" → "data").
std::string TemplateVolumeName(const apis::PersistentVolumeClaim& t) {
  std::string name = t.metadata.name;
  const std::string placeholder = "${POD_ORDINAL}";
  if (size_t at = name.find(placeholder); at != std::string::npos)
    name.erase(at, placeholder.size());
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name;
}

// Local-backend repositories are mounted into the restore's container at
// their mountPath, as the backup sidecar mounts them.
std::optional<apis::Volume> LocalBackendVolume(const apis::Repository& repository) {
  const auto& local = repository.spec.backend.local;
  if (!local || local->mount_path.empty()) return std::nullopt;
  apis::Volume v;
  v.name = S(kRestoreLocalBackendVolume);
  v.source = local->source;
  return v;
}

std::optional<apis::VolumeMount> LocalBackendMount(const apis::Repository& repository) {
  const auto& local = repository.spec.backend.local;
  if (!local || local->mount_path.empty()) return std::nullopt;
  apis::VolumeMount m;
  m.name = S(kRestoreLocalBackendVolume);
  m.mount_path = local->mount_path;
  m.sub_path = local->sub_path;
  return m;
}

// runtimeSettings.container: the securityContext, resources and env apply
// to the restore container; nice, ionice, probes, ... have no equivalent here.
Status CheckContainerSettings(const apis::ContainerRuntimeSettings& container) {
  const json& unmodelled = container.extra.fields;
  if (!unmodelled.is_object() || unmodelled.empty()) return Status::Ok();
  return InvalidError("spec.runtimeSettings.container." + unmodelled.begin().key() +
                      " is not supported (securityContext, resources and env are)");
}

}  // namespace

std::vector<engine::RestoreRule> EngineRules(const apis::RestoreSession& session) {
  const apis::RestoreTarget& t = TargetOf(session);
  return engine::RulesFrom(!t.rules.empty() ? t.rules : session.spec.rules);
}

Status ValidateRestoreSession(const apis::RestoreSession& s) {
  const auto& spec = s.spec;
  if (spec.repository.name.empty()) {
    return InvalidError("spec.repository.name is required (the Repository to restore from)");
  }
  if (!spec.target) {
    return InvalidError("spec.target is required (the workload or claim to restore into)");
  }
  const apis::RestoreTarget& t = *spec.target;
  if (!t.volume_claim_templates.empty()) {
    if (!t.ref.kind.empty() && t.ref.kind != "StatefulSet") {
      return InvalidError(
          "spec.target.volumeClaimTemplates restore into new claims; "
          "spec.target.ref.kind must then be StatefulSet or empty, not " +
          t.ref.kind);
    }
    for (const auto& c : t.volume_claim_templates) {
      if (c.metadata.name.empty()) {
        return InvalidError("spec.target.volumeClaimTemplates: every template needs metadata.name");
      }
    }
  } else if (t.ref.kind.empty() || t.ref.name.empty()) {
    return InvalidError("spec.target.ref needs kind and name (or give volumeClaimTemplates)");
  } else if (!IsWorkloadKind(t.ref.kind) && t.ref.kind != "PersistentVolumeClaim") {
    return InvalidError("spec.target.ref.kind " + t.ref.kind +
                        " is not supported (Deployment, StatefulSet, DaemonSet, "
                        "PersistentVolumeClaim)");
  }
  if (!t.ref.namespace_.empty() && t.ref.namespace_ != s.metadata.namespace_) {
    return InvalidError("spec.target.ref.namespace must be the RestoreSession's namespace " +
                        s.metadata.namespace_);
  }
  if (!spec.task.name.empty()) {
    return InvalidError("spec.task " + spec.task.name +
                        " is not supported: restores of workloads and claims need no Task");
  }
  if (!spec.driver.empty() && spec.driver != "Restic") {
    return InvalidError("spec.driver " + spec.driver + " is not supported (Restic only)");
  }
  if (spec.hooks) return InvalidError("spec.hooks are not supported yet");
  if (spec.interim_volume_template) {
    return InvalidError("spec.interimVolumeTemplate is not supported");
  }
  if (!t.args.empty()) {
    return InvalidError(
        "spec.target.args (extra restic arguments) are not supported: the "
        "restore runs in-process; use the rules' include and exclude");
  }
  if (!spec.runtime_settings.pod.is_null() && !spec.runtime_settings.pod.empty()) {
    return InvalidError("spec.runtimeSettings.pod is not supported");
  }
  STASH_RETURN_IF_ERROR(CheckContainerSettings(spec.runtime_settings.container));
  if (!spec.time_out.empty()) {
    auto d = kube::ParseGoDuration(spec.time_out);
    if (!d.ok()) return InvalidError("spec.timeOut: " + d.status().message());
    if (*d <= Duration(0)) return InvalidError("spec.timeOut must be positive");
  }
  if (!t.rules.empty() && !spec.rules.empty()) {
    return InvalidError("give the rules in spec.target.rules only (spec.rules is deprecated)");
  }
  return engine::ValidateRestoreRules(EngineRules(s));
}

RestoreMode ModeOf(const apis::RestoreSession& s) {
  const apis::RestoreTarget& t = TargetOf(s);
  return t.volume_claim_templates.empty() && IsWorkloadKind(t.ref.kind)
             ? RestoreMode::kInitContainer
             : RestoreMode::kJob;
}

std::string RestoreInvokerHash(const apis::RestoreSession& s) {
  std::string text = s.metadata.uid + "\n" + apis::ToJson(s.spec).dump();
  return crypto::Sha256(text).Hex().substr(0, 16);
}

apis::Container RestoreInitContainer(const apis::RestoreSession& s,
                                     const apis::Repository& repository, std::string_view image) {
  const apis::RestoreTarget& t = TargetOf(s);
  apis::Container c;
  c.name = S(kRestoreInitName);
  c.image = S(image);
  c.image_pull_policy = "IfNotPresent";
  c.args = {"run-restore",
            "--invoker-kind=RestoreSession",
            "--invoker-name=" + s.metadata.name,
            "--target-kind=" + t.ref.kind,
            "--target-name=" + t.ref.name,
            "--target-namespace=" + s.metadata.namespace_};
  c.env = {FieldEnv("NODE_NAME", "spec.nodeName"), FieldEnv("POD_NAME", "metadata.name"),
           FieldEnv("POD_NAMESPACE", "metadata.namespace")};
  c.volume_mounts = t.volume_mounts;
  // Root, so restored files keep their owners (Stash's default), unless the
  // user set a securityContext.
  const apis::ContainerRuntimeSettings& settings = s.spec.runtime_settings.container;
  c.security_context = StashContainerSecurityContext(settings);
  c.env.insert(c.env.end(), settings.env.begin(), settings.env.end());
  c.resources = settings.resources;
  if (auto m = LocalBackendMount(repository)) c.volume_mounts.push_back(std::move(*m));
  return c;
}

Result<bool> InjectRestoreInit(apis::PodTemplateSpec* tmpl, apis::ObjectMeta* workload_meta,
                               const apis::RestoreSession& s, const apis::Repository& repository,
                               std::string_view image) {
  const apis::PodTemplateSpec before = *tmpl;
  const apis::ObjectMeta meta_before = *workload_meta;
  apis::PodSpec& pod = tmpl->spec;
  for (const apis::VolumeMount& m : TargetOf(s).volume_mounts) {
    bool found = std::any_of(pod.volumes.begin(), pod.volumes.end(),
                             [&](const apis::Volume& v) { return v.name == m.name; });
    if (!found) {
      return InvalidError("spec.target.volumeMounts: volume \"" + m.name +
                          "\" is not a volume of the pod template of " + TargetOf(s).ref.kind +
                          " " + s.metadata.namespace_ + "/" + TargetOf(s).ref.name);
    }
  }
  std::erase_if(pod.init_containers,
                [](const apis::Container& c) { return c.name == kRestoreInitName; });
  std::erase_if(pod.volumes,
                [](const apis::Volume& v) { return v.name == kRestoreLocalBackendVolume; });
  apis::Container init = RestoreInitContainer(s, repository, image);
  if (auto v = LocalBackendVolume(repository)) pod.volumes.push_back(std::move(*v));
  pod.init_containers.insert(pod.init_containers.begin(), std::move(init));
  tmpl->metadata.annotations[S(kAnnotationRestoreHash)] = RestoreInvokerHash(s);
  workload_meta->annotations[S(kAnnotationRestoreInvoker)] = s.metadata.name;
  workload_meta->annotations[S(kAnnotationRestoreInvokerKind)] = "RestoreSession";
  return !(*tmpl == before) || !(*workload_meta == meta_before);
}

bool RemoveRestoreInit(apis::PodTemplateSpec* tmpl, apis::ObjectMeta* workload_meta) {
  const apis::PodTemplateSpec before = *tmpl;
  const apis::ObjectMeta meta_before = *workload_meta;
  std::erase_if(tmpl->spec.init_containers,
                [](const apis::Container& c) { return c.name == kRestoreInitName; });
  std::erase_if(tmpl->spec.volumes,
                [](const apis::Volume& v) { return v.name == kRestoreLocalBackendVolume; });
  tmpl->metadata.annotations.erase(S(kAnnotationRestoreHash));
  workload_meta->annotations.erase(S(kAnnotationRestoreInvoker));
  workload_meta->annotations.erase(S(kAnnotationRestoreInvokerKind));
  return !(*tmpl == before) || !(*workload_meta == meta_before);
}

std::string RestoreJobName(const apis::RestoreSession& s, int ordinal) {
  std::string name = "stash-restore-" + s.metadata.name;
  if (ordinal >= 0) name += "-" + std::to_string(ordinal);
  return name;
}

std::vector<apis::PersistentVolumeClaim> RestoreClaims(const apis::RestoreSession& s, int ordinal) {
  std::vector<apis::PersistentVolumeClaim> out;
  for (apis::PersistentVolumeClaim c : TargetOf(s).volume_claim_templates) {
    const std::string placeholder = "${POD_ORDINAL}";
    std::string& name = c.metadata.name;
    if (size_t at = name.find(placeholder); at != std::string::npos) {
      name.replace(at, placeholder.size(), std::to_string(ordinal));
    } else {
      name += "-" + std::to_string(ordinal);
    }
    c.metadata.namespace_ = s.metadata.namespace_;
    c.metadata.labels[S(kLabelRestoreSession)] = s.metadata.name;
    c.api_version = "v1";
    c.kind = "PersistentVolumeClaim";
    out.push_back(std::move(c));
  }
  return out;
}

apis::Job RestoreJob(const apis::RestoreSession& s, const apis::Repository& repository, int ordinal,
                     std::string_view image) {
  const apis::RestoreTarget& t = TargetOf(s);
  apis::Job job;
  job.api_version = "batch/v1";
  job.kind = "Job";
  job.metadata.name = RestoreJobName(s, ordinal);
  job.metadata.namespace_ = s.metadata.namespace_;
  job.metadata.labels[S(kLabelRestoreSession)] = s.metadata.name;
  job.metadata.labels[S(kube::kLabelManagedBy)] = S(kube::kManagedByValue);
  job.metadata.owner_references.push_back(apis::ControllerReference(s));
  job.spec.backoff_limit = 6;
  apis::PodSpec& pod = job.spec.template_.spec;
  job.spec.template_.metadata.labels[S(kLabelRestoreSession)] = s.metadata.name;
  pod.restart_policy = "OnFailure";
  // Made by the operator, bound to the RestoreSession's Role (rbac.h).
  pod.service_account_name = RestoreJobServiceAccount(s.metadata.name);

  // The claims: target.ref's, or those of volumeClaimTemplates for `ordinal`.
  struct Claim {
    std::string volume, claim;
  };
  std::vector<Claim> claims;
  if (ordinal < 0) {
    claims.push_back({t.ref.name, t.ref.name});
  } else {
    auto made = RestoreClaims(s, ordinal);
    for (size_t i = 0; i < made.size(); ++i) {
      claims.push_back({TemplateVolumeName(t.volume_claim_templates[i]), made[i].metadata.name});
    }
  }
  apis::Container c = RestoreInitContainer(s, repository, image);
  c.name = S(kRestoreJobContainer);
  c.args = {"run-restore",
            "--invoker-kind=RestoreSession",
            "--invoker-name=" + s.metadata.name,
            "--target-kind=" + (ordinal < 0 ? t.ref.kind : std::string("StatefulSet")),
            "--target-name=" + (t.ref.name.empty() ? s.metadata.name : t.ref.name),
            "--target-namespace=" + s.metadata.namespace_,
            "--host=host-" + std::to_string(ordinal < 0 ? 0 : ordinal),
            "--restore-job"};
  // A mount names its claim by volume name; with a single claim every mount
  // is of that claim; a claim no mount names is mounted at /stash-data.
  std::vector<apis::VolumeMount> mounts;
  for (apis::VolumeMount m : t.volume_mounts) {
    auto it = std::find_if(claims.begin(), claims.end(),
                           [&](const Claim& cl) { return cl.volume == m.name; });
    if (it == claims.end() && claims.size() == 1) {
      it = claims.begin();
      m.name = it->volume;
    }
    if (it != claims.end()) mounts.push_back(std::move(m));
  }
  for (const Claim& cl : claims) {
    bool mounted = std::any_of(mounts.begin(), mounts.end(),
                               [&](const apis::VolumeMount& m) { return m.name == cl.volume; });
    if (!mounted) {
      apis::VolumeMount m;
      m.name = cl.volume;
      m.mount_path = claims.size() == 1 ? S(kDefaultRestoreMountPath)
                                        : S(kDefaultRestoreMountPath) + "/" + cl.volume;
      mounts.push_back(std::move(m));
    }
    apis::Volume v;
    v.name = cl.volume;
    v.source.persistent_volume_claim.emplace();
    v.source.persistent_volume_claim->claim_name = cl.claim;
    pod.volumes.push_back(std::move(v));
  }
  c.volume_mounts = mounts;
  if (auto m = LocalBackendMount(repository)) c.volume_mounts.push_back(std::move(*m));
  if (auto v = LocalBackendVolume(repository)) pod.volumes.push_back(std::move(*v));
  pod.containers.push_back(std::move(c));
  return job;
}

int32_t TotalHosts(const apis::RestoreSession& s, const apis::Workload* workload,
                   int32_t daemonset_scheduled) {
  const apis::RestoreTarget& t = TargetOf(s);
  if (!t.volume_claim_templates.empty()) return std::max<int32_t>(1, t.replicas.value_or(1));
  if (t.ref.kind == "StatefulSet" && workload) return std::max<int32_t>(1, workload->replicas);
  if (t.ref.kind == "DaemonSet") return std::max<int32_t>(1, daemonset_scheduled);
  return 1;
}

std::string CompletedPhase(const apis::RestoreSessionStatus& status, int32_t total) {
  int32_t done = 0;
  bool failed = false, unknown = false;
  for (const apis::HostRestoreStats& st : status.stats) {
    if (st.phase == "Succeeded" || st.phase == "Failed" || st.phase == "Unknown") ++done;
    failed = failed || st.phase == "Failed";
    unknown = unknown || st.phase == "Unknown";
  }
  if (done < total) return "";
  if (failed) return "Failed";
  if (unknown) return "Unknown";
  return "Succeeded";
}

}  // namespace stash::controller
