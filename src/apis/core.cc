#include "stash/apis/core.h"

namespace stash::apis {

template <class V>
void ObjectFieldSelector::Visit(V& v) {
  v("apiVersion", api_version);
  v("fieldPath", field_path);
}
STASH_APIS_DEFINE_CODEC(ObjectFieldSelector);

template <class V>
void KeySelector::Visit(V& v) {
  v("name", name);
  v("key", key);
  v("optional", optional);
}
STASH_APIS_DEFINE_CODEC(KeySelector);

template <class V>
void EnvVarSource::Visit(V& v) {
  v("fieldRef", field_ref);
  v("configMapKeyRef", config_map_key_ref);
  v("secretKeyRef", secret_key_ref);
}
STASH_APIS_DEFINE_CODEC(EnvVarSource);

template <class V>
void EnvVar::Visit(V& v) {
  v("name", name);
  v("value", value);
  v("valueFrom", value_from);
}
STASH_APIS_DEFINE_CODEC(EnvVar);

template <class V>
void VolumeMount::Visit(V& v) {
  v("name", name);
  v("readOnly", read_only);
  v("mountPath", mount_path);
  v("subPath", sub_path);
  v("mountPropagation", mount_propagation);
  v("subPathExpr", sub_path_expr);
}
STASH_APIS_DEFINE_CODEC(VolumeMount);

template <class V>
void Capabilities::Visit(V& v) {
  v("add", add);
  v("drop", drop);
}
STASH_APIS_DEFINE_CODEC(Capabilities);

template <class V>
void SecurityContext::Visit(V& v) {
  v("capabilities", capabilities);
  v("privileged", privileged);
  v("runAsUser", run_as_user);
  v("runAsGroup", run_as_group);
  v("runAsNonRoot", run_as_non_root);
  v("readOnlyRootFilesystem", read_only_root_filesystem);
  v("allowPrivilegeEscalation", allow_privilege_escalation);
}
STASH_APIS_DEFINE_CODEC(SecurityContext);

template <class V>
void PodSecurityContext::Visit(V& v) {
  v("runAsUser", run_as_user);
  v("runAsGroup", run_as_group);
  v("runAsNonRoot", run_as_non_root);
  v("supplementalGroups", supplemental_groups);
  v("fsGroup", fs_group);
}
STASH_APIS_DEFINE_CODEC(PodSecurityContext);

template <class V>
void ContainerPort::Visit(V& v) {
  v("name", name);
  v("containerPort", container_port);
}
STASH_APIS_DEFINE_CODEC(ContainerPort);

template <class V>
void SecretEnvSource::Visit(V& v) {
  v("name", name);
  v("optional", optional);
}
STASH_APIS_DEFINE_CODEC(SecretEnvSource);

template <class V>
void ConfigMapEnvSource::Visit(V& v) {
  v("name", name);
  v("optional", optional);
}
STASH_APIS_DEFINE_CODEC(ConfigMapEnvSource);

template <class V>
void EnvFromSource::Visit(V& v) {
  v("prefix", prefix);
  v("configMapRef", config_map_ref);
  v("secretRef", secret_ref);
}
STASH_APIS_DEFINE_CODEC(EnvFromSource);

template <class V>
void ExecAction::Visit(V& v) {
  v("command", command);
}
STASH_APIS_DEFINE_CODEC(ExecAction);

template <class V>
void HTTPHeader::Visit(V& v) {
  v("name", name);
  v("value", value);
}
STASH_APIS_DEFINE_CODEC(HTTPHeader);

template <class V>
void FormEntry::Visit(V& v) {
  v("key", key);
  v("values", values);
}
STASH_APIS_DEFINE_CODEC(FormEntry);

template <class V>
void HTTPAction::Visit(V& v) {
  v("path", path);
  v("port", port);
  v("host", host);
  v("scheme", scheme);
  v("httpHeaders", http_headers);
  v("body", body);
  v("form", form);
}
STASH_APIS_DEFINE_CODEC(HTTPAction);

template <class V>
void TCPSocketAction::Visit(V& v) {
  v("port", port);
  v("host", host);
}
STASH_APIS_DEFINE_CODEC(TCPSocketAction);

template <class V>
void Probe::Visit(V& v) {
  v("exec", exec);
  v("httpGet", http_get);
  v("tcpSocket", tcp_socket);
  v("initialDelaySeconds", initial_delay_seconds);
  v("timeoutSeconds", timeout_seconds);
  v("periodSeconds", period_seconds);
  v("successThreshold", success_threshold);
  v("failureThreshold", failure_threshold);
}
STASH_APIS_DEFINE_CODEC(Probe);

template <class V>
void Container::Visit(V& v) {
  v("name", name);
  v("image", image);
  v("command", command);
  v("args", args);
  v("workingDir", working_dir);
  v("ports", ports);
  v("envFrom", env_from);
  v("env", env);
  v("volumeMounts", volume_mounts);
  v("imagePullPolicy", image_pull_policy);
  v("securityContext", security_context);
  v("readinessProbe", readiness_probe);
  v("resources", resources);
  v("stdin", stdin);
  v("tty", tty);
}
STASH_APIS_DEFINE_CODEC(Container);

template <class V>
void HostPathVolumeSource::Visit(V& v) {
  v("path", path);
  v("type", type);
}
STASH_APIS_DEFINE_CODEC(HostPathVolumeSource);

template <class V>
void PersistentVolumeClaimVolumeSource::Visit(V& v) {
  v("claimName", claim_name);
  v("readOnly", read_only);
}
STASH_APIS_DEFINE_CODEC(PersistentVolumeClaimVolumeSource);

template <class V>
void EmptyDirVolumeSource::Visit(V& v) {
  v("medium", medium);
  v("sizeLimit", size_limit);
}
STASH_APIS_DEFINE_CODEC(EmptyDirVolumeSource);

template <class V>
void NFSVolumeSource::Visit(V& v) {
  v("server", server);
  v("path", path);
  v("readOnly", read_only);
}
STASH_APIS_DEFINE_CODEC(NFSVolumeSource);

template <class V>
void KeyToPath::Visit(V& v) {
  v("key", key);
  v("path", path);
  v("mode", mode);
}
STASH_APIS_DEFINE_CODEC(KeyToPath);

template <class V>
void ConfigMapVolumeSource::Visit(V& v) {
  v("name", name);
  v("items", items);
  v("defaultMode", default_mode);
  v("optional", optional);
}
STASH_APIS_DEFINE_CODEC(ConfigMapVolumeSource);

template <class V>
void SecretVolumeSource::Visit(V& v) {
  v("secretName", secret_name);
  v("items", items);
  v("defaultMode", default_mode);
  v("optional", optional);
}
STASH_APIS_DEFINE_CODEC(SecretVolumeSource);

template <class V>
void VolumeSource::Visit(V& v) {
  v("hostPath", host_path);
  v("emptyDir", empty_dir);
  v("secret", secret);
  v("configMap", config_map);
  v("nfs", nfs);
  v("persistentVolumeClaim", persistent_volume_claim);
}

// Visited inline from other files too (a Repository's local backend).
template void VolumeSource::Visit<Reader>(Reader&);
template void VolumeSource::Visit<Writer>(Writer&);
template void VolumeSource::Visit<ZeroTest>(ZeroTest&);

template <class V>
void Volume::Visit(V& v) {
  v("name", name);
  source.Visit(v);
}
STASH_APIS_DEFINE_CODEC(Volume);

template <class V>
void PodSpec::Visit(V& v) {
  v("volumes", volumes);
  v("initContainers", init_containers);
  v("containers", containers);
  v("restartPolicy", restart_policy);
  v("terminationGracePeriodSeconds", termination_grace_period_seconds);
  v("nodeSelector", node_selector);
  v("serviceAccountName", service_account_name);
  v("serviceAccount", service_account);
  v("automountServiceAccountToken", automount_service_account_token);
  v("nodeName", node_name);
  v("securityContext", security_context);
  v("imagePullSecrets", image_pull_secrets);
  v("hostname", hostname);
  v("subdomain", subdomain);
}
STASH_APIS_DEFINE_CODEC(PodSpec);

template <class V>
void PodTemplateSpec::Visit(V& v) {
  v("metadata", metadata);
  v("spec", spec);
}
STASH_APIS_DEFINE_CODEC(PodTemplateSpec);

template <class V>
void PodCondition::Visit(V& v) {
  v("type", type);
  v("status", status);
  v("lastProbeTime", last_probe_time);
  v("lastTransitionTime", last_transition_time);
  v("reason", reason);
  v("message", message);
}
STASH_APIS_DEFINE_CODEC(PodCondition);

template <class V>
void ContainerStateWaiting::Visit(V& v) {
  v("reason", reason);
  v("message", message);
}
STASH_APIS_DEFINE_CODEC(ContainerStateWaiting);

template <class V>
void ContainerStateRunning::Visit(V& v) {
  v("startedAt", started_at);
}
STASH_APIS_DEFINE_CODEC(ContainerStateRunning);

template <class V>
void ContainerStateTerminated::Visit(V& v) {
  v("exitCode", exit_code, Emit::kAlways);
  v("signal", signal);
  v("reason", reason);
  v("message", message);
  v("startedAt", started_at);
  v("finishedAt", finished_at);
}
STASH_APIS_DEFINE_CODEC(ContainerStateTerminated);

template <class V>
void ContainerState::Visit(V& v) {
  v("waiting", waiting);
  v("running", running);
  v("terminated", terminated);
}
STASH_APIS_DEFINE_CODEC(ContainerState);

template <class V>
void ContainerStatus::Visit(V& v) {
  v("name", name);
  v("state", state);
  v("lastState", last_state);
  v("ready", ready, Emit::kAlways);
  v("restartCount", restart_count, Emit::kAlways);
  v("image", image, Emit::kAlways);
  v("imageID", image_id, Emit::kAlways);
  v("containerID", container_id);
  v("started", started);
}
STASH_APIS_DEFINE_CODEC(ContainerStatus);

template <class V>
void PodIP::Visit(V& v) {
  v("ip", ip);
}
STASH_APIS_DEFINE_CODEC(PodIP);

template <class V>
void PodStatus::Visit(V& v) {
  v("phase", phase);
  v("conditions", conditions);
  v("message", message);
  v("reason", reason);
  v("hostIP", host_ip);
  v("hostIPs", host_ips);
  v("podIP", pod_ip);
  v("podIPs", pod_ips);
  v("startTime", start_time);
  v("initContainerStatuses", init_container_statuses);
  v("containerStatuses", container_statuses);
  v("qosClass", qos_class);
}
STASH_APIS_DEFINE_CODEC(PodStatus);

template <class V>
void Pod::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Pod);

template <class V>
void PersistentVolumeClaimSpec::Visit(V& v) {
  v("accessModes", access_modes);
  v("selector", selector);
  v("resources", resources);
  v("volumeName", volume_name);
  v("storageClassName", storage_class_name);
  v("volumeMode", volume_mode);
}
STASH_APIS_DEFINE_CODEC(PersistentVolumeClaimSpec);

template <class V>
void PersistentVolumeClaimStatus::Visit(V& v) {
  v("phase", phase);
  v("accessModes", access_modes);
  v("capacity", capacity);
}
STASH_APIS_DEFINE_CODEC(PersistentVolumeClaimStatus);

template <class V>
void PersistentVolumeClaim::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(PersistentVolumeClaim);

template <class V>
void Secret::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("immutable", immutable);
  v("data", data);
  v("stringData", string_data);
  v("type", type);
}
STASH_APIS_DEFINE_CODEC(Secret);

const kube::Resource& ConfigMap::Resource() {
  static const kube::Resource r{"", "v1", "configmaps", "ConfigMap"};
  return r;
}

template <class V>
void ConfigMap::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("immutable", immutable);
  v("data", data);
  v("binaryData", binary_data);
}
STASH_APIS_DEFINE_CODEC(ConfigMap);

template <class V>
void EventSource::Visit(V& v) {
  v("component", component);
  v("host", host);
}
STASH_APIS_DEFINE_CODEC(EventSource);

template <class V>
void Event::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("involvedObject", involved_object);
  v("reason", reason);
  v("message", message);
  v("source", source);
  v("firstTimestamp", first_timestamp);
  v("lastTimestamp", last_timestamp);
  v("count", count);
  v("type", type);
  v("eventTime", event_time);
  v("action", action);
  v("reportingComponent", reporting_component, Emit::kAlways);
  v("reportingInstance", reporting_instance, Emit::kAlways);
}
STASH_APIS_DEFINE_CODEC(Event);

const kube::Resource& ServiceAccount::Resource() {
  static const kube::Resource r{"", "v1", "serviceaccounts", "ServiceAccount"};
  return r;
}

template <class V>
void ServiceAccount::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("secrets", secrets);
  v("imagePullSecrets", image_pull_secrets);
  v("automountServiceAccountToken", automount_service_account_token);
}
STASH_APIS_DEFINE_CODEC(ServiceAccount);

template <class V>
void NamespaceSpec::Visit(V& v) {
  v("finalizers", finalizers);
}
STASH_APIS_DEFINE_CODEC(NamespaceSpec);

template <class V>
void NamespaceStatus::Visit(V& v) {
  v("phase", phase);
}
STASH_APIS_DEFINE_CODEC(NamespaceStatus);

template <class V>
void Namespace::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Namespace);

}  // namespace stash::apis
