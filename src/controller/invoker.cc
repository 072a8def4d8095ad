#include "stash/controller/invoker.h"

#include <algorithm>
#include <cstdio>

#include "stash/apis/client.h"
#include "stash/kube/stash_names.h"

namespace stash::controller {

namespace {

using apis::BackupConfiguration;
using apis::Container;

uint64_t Fnv1a(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (char c : data) {
    h ^= uint8_t(c);
    h *= 1099511628211ull;
  }
  return h;
}

apis::EnvVar FieldEnv(std::string name, std::string field_path) {
  apis::EnvVar e;
  e.name = std::move(name);
  e.value_from.emplace().field_ref.emplace().field_path = std::move(field_path);
  return e;
}

// The operator-owned members of a container, over whatever else it has.
void SetOwned(Container* c, const Container& desired) {
  c->name = desired.name;
  c->image = desired.image;
  c->image_pull_policy = desired.image_pull_policy;
  c->command = desired.command;
  c->args = desired.args;
  c->env = desired.env;
  c->volume_mounts = desired.volume_mounts;
  c->readiness_probe = desired.readiness_probe;
  c->security_context = desired.security_context;
}

bool SameOwned(const Container& a, const Container& b) {
  return a.name == b.name && a.image == b.image && a.command == b.command && a.args == b.args;
}

}  // namespace

Container SidecarContainer(const BackupConfiguration& bc, std::string_view image,
                           std::string_view pushgateway_url) {
  const apis::BackupTarget target = bc.spec.target.value_or(apis::BackupTarget{});
  const std::string ns = bc.metadata.namespace_.empty() ? "default" : bc.metadata.namespace_;
  Container c;
  c.name = kube::kSidecarName;
  c.image = std::string(image);
  c.image_pull_policy = "IfNotPresent";
  c.args = {"run-backup",
            "--invoker-kind=BackupConfiguration",
            "--invoker-name=" + bc.metadata.name,
            "--target-kind=" + target.ref.kind,
            "--target-name=" + target.ref.name,
            "--target-namespace=" + (target.ref.namespace_.empty() ? ns : target.ref.namespace_),
            std::string("--enable-cache=") + (bc.spec.temp_dir.disable_caching ? "false" : "true"),
            "--max-connections=0"};
  if (pushgateway_url.empty()) {
    c.args.push_back("--metrics-enabled=false");
  } else {
    c.args.push_back("--metrics-enabled=true");
    c.args.push_back("--pushgateway-url=" + std::string(pushgateway_url));
  }
  c.env = {FieldEnv("NODE_NAME", "spec.nodeName"), FieldEnv("POD_NAME", "metadata.name"),
           FieldEnv("POD_NAMESPACE", "metadata.namespace")};
  c.volume_mounts = target.volume_mounts;
  // Not Ready while the API server denies the sidecar a call (it writes
  // agent::kSidecarNotReadyFile; `stash sidecar-ready` reads it): a kubelet
  // and the embedded node run the same probe. One failure is enough: the
  // sidecar only writes the file once a call was refused.
  apis::Probe& probe = c.readiness_probe.emplace();
  probe.exec.emplace().command = {std::string(kube::kStashBinaryPath),
                                  std::string(kube::kSidecarReadyCommand)};
  probe.period_seconds = 5;
  probe.timeout_seconds = 5;  // a process start on a loaded node
  probe.failure_threshold = 1;
  c.security_context = StashContainerSecurityContext(bc.spec.runtime_settings.container);
  return c;
}

// Root by default: Stash's image user silently skipped unreadable files
// (Stash #899, #1097, #1361; the advice there was runAsUser 0), and a
// container run as a local process runs as the node's user anyway: the same
// pod backs up the same files either way.
apis::SecurityContext StashContainerSecurityContext(
    const apis::ContainerRuntimeSettings& settings) {
  if (settings.security_context) return *settings.security_context;
  apis::SecurityContext root;
  root.run_as_user = 0;
  root.run_as_group = 0;
  return root;
}

// Only what the sidecar container is made of: the sidecar reads the
// schedule, retention, paths, hooks, timeOut and paused state from the
// BackupConfiguration at each session, so editing them must restart no pod
// (Stash hashed the whole spec, and a keepLast edit rolled every workload).
// The image and the pushgateway are the operator's, the same for every
// BackupConfiguration; a change of theirs changes the container itself.
std::string InvokerHash(const BackupConfiguration& bc) {
  char buf[24];
  snprintf(
      buf, sizeof buf, "%llu",
      static_cast<unsigned long long>(Fnv1a(apis::ToJson(SidecarContainer(bc, "", "")).dump())));
  return buf;
}

bool InjectSidecar(apis::ObjectMeta* meta, apis::PodTemplateSpec* tmpl,
                   const BackupConfiguration& bc, const apis::Repository* repository,
                   std::string_view image, std::string_view pushgateway_url) {
  const apis::ObjectMeta meta_before = *meta;
  const apis::PodTemplateSpec tmpl_before = *tmpl;
  Container desired = SidecarContainer(bc, image, pushgateway_url);
  // A local backend is mounted into the sidecar at its mountPath, as Stash does.
  std::optional<apis::Volume> local_volume;
  if (repository && repository->spec.backend.local &&
      !repository->spec.backend.local->mount_path.empty()) {
    const apis::LocalSpec& local = *repository->spec.backend.local;
    apis::Volume& v = local_volume.emplace();
    v.name = kube::kLocalBackendVolume;
    v.source = local.source;
    v.extra.fields = local.extra.fields;  // volume kinds this layer does not model
    apis::VolumeMount mount;
    mount.name = kube::kLocalBackendVolume;
    mount.mount_path = local.mount_path;
    mount.sub_path = local.sub_path;
    desired.volume_mounts.push_back(mount);
  }
  std::vector<Container>& containers = tmpl->spec.containers;
  auto it = std::find_if(containers.begin(), containers.end(),
                         [](const Container& c) { return c.name == kube::kSidecarName; });
  if (it == containers.end()) {
    containers.push_back(desired);
  } else {
    SetOwned(&*it, desired);
  }
  std::vector<apis::Volume>& volumes = tmpl->spec.volumes;
  std::erase_if(volumes, [](const apis::Volume& v) { return v.name == kube::kLocalBackendVolume; });
  if (local_volume) volumes.push_back(*local_volume);
  tmpl->metadata.annotations[std::string(kube::kAnnotationInvokerHash)] = InvokerHash(bc);
  meta->annotations[std::string(kube::kAnnotationInvokerKind)] = "BackupConfiguration";
  meta->annotations[std::string(kube::kAnnotationInvoker)] = bc.metadata.name;
  return !(*meta == meta_before && *tmpl == tmpl_before);
}

bool RemoveSidecar(apis::ObjectMeta* meta, apis::PodTemplateSpec* tmpl) {
  const apis::ObjectMeta meta_before = *meta;
  const apis::PodTemplateSpec tmpl_before = *tmpl;
  auto ours = [](const std::string& name) {
    return name == kube::kSidecarName || name == kube::kLocalBackendVolume;
  };
  std::erase_if(tmpl->spec.containers, [&](const Container& c) { return ours(c.name); });
  std::erase_if(tmpl->spec.volumes, [&](const apis::Volume& v) { return ours(v.name); });
  // Back to the template as the user wrote it (an annotations map we emptied
  // is dropped), so its pods' hash is the old one.
  tmpl->metadata.annotations.erase(std::string(kube::kAnnotationInvokerHash));
  meta->annotations.erase(std::string(kube::kAnnotationInvokerKind));
  meta->annotations.erase(std::string(kube::kAnnotationInvoker));
  return !(*meta == meta_before && *tmpl == tmpl_before);
}

std::string TriggerCronJobName(std::string_view bc_name) {
  std::string name = "stash-trigger-" + std::string(bc_name);
  std::replace(name.begin(), name.end(), '.', '-');
  if (name.size() > 52) name.resize(52);  // CronJob names are capped at 52
  return name;
}

apis::CronJob TriggerCronJob(const BackupConfiguration& bc, std::string_view image) {
  const std::string& name = bc.metadata.name;
  apis::CronJob cj;
  cj.api_version = "batch/v1";
  cj.kind = "CronJob";
  cj.metadata.name = TriggerCronJobName(name);
  cj.metadata.namespace_ = bc.metadata.namespace_.empty() ? "default" : bc.metadata.namespace_;
  cj.metadata.labels = {{std::string(kube::kLabelManagedBy), std::string(kube::kManagedByValue)},
                        {std::string(kube::kLabelInvokerType), "BackupConfiguration"},
                        {std::string(kube::kLabelInvokerName), name}};
  cj.metadata.owner_references = {apis::ControllerReference(bc)};
  cj.spec.schedule = bc.spec.schedule;
  cj.spec.concurrency_policy = "Forbid";
  cj.spec.suspend = false;  // 2019 pause semantics: the trigger keeps running
  apis::JobTemplateSpec& job = cj.spec.job_template;
  job.metadata.labels = {{"stash.appscode.com/delete-job-on-completion", "true"}};
  job.spec.template_.spec.restart_policy = "Never";
  // Made by the operator, bound to the BackupConfiguration's Role (rbac.h).
  job.spec.template_.spec.service_account_name = TriggerCronJobName(name);
  Container c;
  c.name = kube::kSidecarName;
  c.image = std::string(image);
  c.image_pull_policy = "IfNotPresent";
  c.args = {"create-backupsession", "--invoker-name=" + name, "--invoker-kind=BackupConfiguration"};
  job.spec.template_.spec.containers = {c};
  return cj;
}

bool CronJobNeedsUpdate(const apis::CronJob& existing, const apis::CronJob& desired) {
  const auto& a = existing.spec.job_template.spec.template_.spec.containers;
  const auto& b = desired.spec.job_template.spec.template_.spec.containers;
  bool same_containers =
      a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), SameOwned);
  return existing.spec.schedule != desired.spec.schedule ||
         existing.spec.suspend.value_or(false) != desired.spec.suspend.value_or(false) ||
         !same_containers ||
         existing.spec.job_template.spec.template_.spec.service_account_name !=
             desired.spec.job_template.spec.template_.spec.service_account_name ||
         existing.metadata.owner_references != desired.metadata.owner_references;
}

apis::CronJob MergeCronJob(apis::CronJob existing, const apis::CronJob& desired) {
  existing.spec.schedule = desired.spec.schedule;
  existing.spec.suspend = desired.spec.suspend;
  existing.spec.job_template = desired.spec.job_template;
  existing.metadata.owner_references = desired.metadata.owner_references;
  return existing;
}

std::string ComputePhase(const std::vector<apis::Condition>& conditions) {
  auto is_true = [&](std::string_view t) { return apis::ConditionStatus(conditions, t) == "True"; };
  if (apis::ConditionStatus(conditions, kValidationPassed) == "False") return "Invalid";
  if (!is_true(kRepositoryFound) || !is_true(kBackendSecretFound) || !is_true(kBackupTargetFound)) {
    return "NotReady";
  }
  if (is_true(kValidationPassed) && is_true(kCronJobCreated)) return "Ready";
  return "NotReady";
}

}  // namespace stash::controller
