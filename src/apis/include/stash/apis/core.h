// core/v1 objects, as far as the operator and the embedded node read and
// write them: Pod (spec and the status the node reports), PodTemplateSpec,
// Container, Volume, VolumeMount, EnvVar with valueFrom, SecurityContext,
// PersistentVolumeClaim, Secret, ConfigMap, Event, ServiceAccount, Namespace. Members not
// modelled here (probes, resources, affinity, ...) travel in each struct's
// `extra` and are written back unchanged (codec.h).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct ObjectFieldSelector {
  std::string api_version;
  std::string field_path;  // metadata.name, metadata.namespace, spec.nodeName, ...
  STASH_APIS_STRUCT(ObjectFieldSelector);
};
STASH_APIS_DECLARE_CODEC(ObjectFieldSelector);

// A key of a Secret or ConfigMap.
struct KeySelector {
  std::string name;
  std::string key;
  std::optional<bool> optional;
  STASH_APIS_STRUCT(KeySelector);
};
STASH_APIS_DECLARE_CODEC(KeySelector);

struct EnvVarSource {
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<KeySelector> secret_key_ref;
  std::optional<KeySelector> config_map_key_ref;
  STASH_APIS_STRUCT(EnvVarSource);  // resourceFieldRef stays in extra
};
STASH_APIS_DECLARE_CODEC(EnvVarSource);

struct EnvVar {
  std::string name;
  std::string value;
  std::optional<EnvVarSource> value_from;
  STASH_APIS_STRUCT(EnvVar);
};
STASH_APIS_DECLARE_CODEC(EnvVar);

struct VolumeMount {
  std::string name;
  bool read_only = false;
  std::string mount_path;
  std::string sub_path;
  std::string mount_propagation;
  std::string sub_path_expr;
  STASH_APIS_STRUCT(VolumeMount);
};
STASH_APIS_DECLARE_CODEC(VolumeMount);

struct Capabilities {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  STASH_APIS_STRUCT(Capabilities);
};
STASH_APIS_DECLARE_CODEC(Capabilities);

// A container's securityContext (seLinuxOptions, seccompProfile, ... in extra).
struct SecurityContext {
  std::optional<Capabilities> capabilities;
  std::optional<bool> privileged;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::optional<bool> read_only_root_filesystem;
  std::optional<bool> allow_privilege_escalation;
  STASH_APIS_STRUCT(SecurityContext);
};
STASH_APIS_DECLARE_CODEC(SecurityContext);

struct PodSecurityContext {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::vector<int64_t> supplemental_groups;
  std::optional<int64_t> fs_group;
  STASH_APIS_STRUCT(PodSecurityContext);
};
STASH_APIS_DECLARE_CODEC(PodSecurityContext);

// A port a container names (hooks' httpGet/tcpSocket may refer to it by
// name); protocol, hostPort, ... in extra.
struct ContainerPort {
  std::string name;
  int32_t container_port = 0;
  STASH_APIS_STRUCT(ContainerPort);
};
STASH_APIS_DECLARE_CODEC(ContainerPort);

struct SecretEnvSource {
  std::string name;
  std::optional<bool> optional;
  STASH_APIS_STRUCT(SecretEnvSource);
};
STASH_APIS_DECLARE_CODEC(SecretEnvSource);

struct ConfigMapEnvSource {
  std::string name;
  std::optional<bool> optional;
  STASH_APIS_STRUCT(ConfigMapEnvSource);
};
STASH_APIS_DECLARE_CODEC(ConfigMapEnvSource);

// Every key of a ConfigMap or Secret as a variable, named prefix + key.
struct EnvFromSource {
  std::string prefix;
  std::optional<ConfigMapEnvSource> config_map_ref;
  std::optional<SecretEnvSource> secret_ref;
  STASH_APIS_STRUCT(EnvFromSource);
};
STASH_APIS_DECLARE_CODEC(EnvFromSource);

// A probe's or hook's command (kubelet's ExecAction, kmodules' for hooks).
struct ExecAction {
  std::vector<std::string> command;
  STASH_APIS_STRUCT(ExecAction);
};
STASH_APIS_DECLARE_CODEC(ExecAction);

struct HTTPHeader {
  std::string name;
  std::string value;
  STASH_APIS_STRUCT(HTTPHeader);
};
STASH_APIS_DECLARE_CODEC(HTTPHeader);

struct FormEntry {
  std::string key;
  std::vector<std::string> values;
  STASH_APIS_STRUCT(FormEntry);
};
STASH_APIS_DECLARE_CODEC(FormEntry);

// A probe's or hook's httpGet, and Stash's hooks' httpPost (body and form
// only for POST).
struct HTTPAction {
  std::string path;
  json port;  // IntOrString: 8080 or "http"
  std::string host;
  std::string scheme;
  std::vector<HTTPHeader> http_headers;
  std::string body;
  std::vector<FormEntry> form;
  STASH_APIS_STRUCT(HTTPAction);
};
STASH_APIS_DECLARE_CODEC(HTTPAction);

// A probe's or hook's tcpSocket.
struct TCPSocketAction {
  json port;  // IntOrString
  std::string host;
  STASH_APIS_STRUCT(TCPSocketAction);
};
STASH_APIS_DECLARE_CODEC(TCPSocketAction);

// A container's probe as kubelet runs it (exec, httpGet, tcpSocket) and its
// timing; grpc travels in extra.
struct Probe {
  std::optional<ExecAction> exec;
  std::optional<HTTPAction> http_get;
  std::optional<TCPSocketAction> tcp_socket;
  std::optional<int32_t> initial_delay_seconds;
  std::optional<int32_t> timeout_seconds;    // kubelet's default 1
  std::optional<int32_t> period_seconds;     // 10
  std::optional<int32_t> success_threshold;  // 1
  std::optional<int32_t> failure_threshold;  // 3
  STASH_APIS_STRUCT(Probe);
};
STASH_APIS_DECLARE_CODEC(Probe);

// (liveness/startup probes, lifecycle, ... in extra)
struct Container {
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;
  std::vector<ContainerPort> ports;
  std::vector<EnvFromSource> env_from;
  std::vector<EnvVar> env;
  std::vector<VolumeMount> volume_mounts;
  std::string image_pull_policy;
  std::optional<SecurityContext> security_context;
  std::optional<Probe> readiness_probe;
  json resources;  // limits and requests, verbatim (quantities are strings or numbers)
  bool stdin = false;
  bool tty = false;
  STASH_APIS_STRUCT(Container);
};
STASH_APIS_DECLARE_CODEC(Container);

struct HostPathVolumeSource {
  std::string path;
  std::optional<std::string> type;
  STASH_APIS_STRUCT(HostPathVolumeSource);
};
STASH_APIS_DECLARE_CODEC(HostPathVolumeSource);

struct PersistentVolumeClaimVolumeSource {
  std::string claim_name;
  bool read_only = false;
  STASH_APIS_STRUCT(PersistentVolumeClaimVolumeSource);
};
STASH_APIS_DECLARE_CODEC(PersistentVolumeClaimVolumeSource);

struct EmptyDirVolumeSource {
  std::string medium;
  json size_limit;  // a quantity: "1Gi" or a number
  STASH_APIS_STRUCT(EmptyDirVolumeSource);
};
STASH_APIS_DECLARE_CODEC(EmptyDirVolumeSource);

struct NFSVolumeSource {
  std::string server;
  std::string path;
  bool read_only = false;
  STASH_APIS_STRUCT(NFSVolumeSource);
};
STASH_APIS_DECLARE_CODEC(NFSVolumeSource);

// A key of a Secret or ConfigMap projected into a volume as the file `path`.
struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
  STASH_APIS_STRUCT(KeyToPath);
};
STASH_APIS_DECLARE_CODEC(KeyToPath);

struct SecretVolumeSource {
  std::string secret_name;
  std::vector<KeyToPath> items;  // empty: every key, as a file of its name
  std::optional<int32_t> default_mode;
  std::optional<bool> optional;
  STASH_APIS_STRUCT(SecretVolumeSource);
};
STASH_APIS_DECLARE_CODEC(SecretVolumeSource);

struct ConfigMapVolumeSource {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> default_mode;
  std::optional<bool> optional;
  STASH_APIS_STRUCT(ConfigMapVolumeSource);
};
STASH_APIS_DECLARE_CODEC(ConfigMapVolumeSource);

// The kinds of volume the embedded node can map onto host directories;
// every other source (projected, csi, ...) stays in the owner's extra.
// Inlined into Volume and into a Repository's local backend, as in Go.
struct VolumeSource {
  std::optional<HostPathVolumeSource> host_path;
  std::optional<EmptyDirVolumeSource> empty_dir;
  std::optional<SecretVolumeSource> secret;
  std::optional<ConfigMapVolumeSource> config_map;
  std::optional<NFSVolumeSource> nfs;
  std::optional<PersistentVolumeClaimVolumeSource> persistent_volume_claim;

  template <class V>
  void Visit(V& v);  // visited inline: the members belong to the enclosing object
  friend bool operator==(const VolumeSource&, const VolumeSource&) = default;
};

struct Volume {
  std::string name;
  VolumeSource source;
  STASH_APIS_STRUCT(Volume);
};
STASH_APIS_DECLARE_CODEC(Volume);

// (affinity, tolerations, dnsPolicy, ... in extra)
struct PodSpec {
  std::vector<Volume> volumes;
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  std::string restart_policy;
  std::optional<int64_t> termination_grace_period_seconds;
  std::map<std::string, std::string> node_selector;
  std::string service_account_name;
  std::string service_account;  // deprecated alias of service_account_name
  std::optional<bool> automount_service_account_token;
  std::string node_name;
  std::optional<PodSecurityContext> security_context;
  std::vector<LocalObjectReference> image_pull_secrets;
  std::string hostname;
  std::string subdomain;
  STASH_APIS_STRUCT(PodSpec);
};
STASH_APIS_DECLARE_CODEC(PodSpec);

struct PodTemplateSpec {
  ObjectMeta metadata;
  PodSpec spec;
  STASH_APIS_STRUCT(PodTemplateSpec);
};
STASH_APIS_DECLARE_CODEC(PodTemplateSpec);

struct PodCondition {
  std::string type;
  std::string status;
  std::string last_probe_time;
  std::string last_transition_time;
  std::string reason;
  std::string message;
  STASH_APIS_STRUCT(PodCondition);
};
STASH_APIS_DECLARE_CODEC(PodCondition);

struct ContainerStateWaiting {
  std::string reason;
  std::string message;
  STASH_APIS_STRUCT(ContainerStateWaiting);
};
STASH_APIS_DECLARE_CODEC(ContainerStateWaiting);

struct ContainerStateRunning {
  std::string started_at;
  STASH_APIS_STRUCT(ContainerStateRunning);
};
STASH_APIS_DECLARE_CODEC(ContainerStateRunning);

struct ContainerStateTerminated {
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string reason;
  std::string message;
  std::string started_at;
  std::string finished_at;
  STASH_APIS_STRUCT(ContainerStateTerminated);
};
STASH_APIS_DECLARE_CODEC(ContainerStateTerminated);

struct ContainerState {
  std::optional<ContainerStateWaiting> waiting;
  std::optional<ContainerStateRunning> running;
  std::optional<ContainerStateTerminated> terminated;
  STASH_APIS_STRUCT(ContainerState);
};
STASH_APIS_DECLARE_CODEC(ContainerState);

struct ContainerStatus {
  std::string name;
  ContainerState state;
  ContainerState last_state;
  bool ready = false;         // always written, as Go
  int32_t restart_count = 0;  // always written
  std::string image;          // always written
  std::string image_id;       // always written (imageID)
  std::string container_id;
  std::optional<bool> started;
  STASH_APIS_STRUCT(ContainerStatus);
};
STASH_APIS_DECLARE_CODEC(ContainerStatus);

// An address of a pod or its host (podIPs, hostIPs).
struct PodIP {
  std::string ip;
  STASH_APIS_STRUCT(PodIP);
};
STASH_APIS_DECLARE_CODEC(PodIP);

struct PodStatus {
  std::string phase;
  std::vector<PodCondition> conditions;
  std::string message;
  std::string reason;
  std::string host_ip;
  std::vector<PodIP> host_ips;
  std::string pod_ip;
  std::vector<PodIP> pod_ips;
  std::string start_time;
  std::vector<ContainerStatus> init_container_statuses;
  std::vector<ContainerStatus> container_statuses;
  std::string qos_class;
  STASH_APIS_STRUCT(PodStatus);
};
STASH_APIS_DECLARE_CODEC(PodStatus);

struct Pod {
  static const kube::Resource& Resource() { return kube::res::kPods; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  STASH_APIS_STRUCT(Pod);
};
STASH_APIS_DECLARE_CODEC(Pod);

struct PersistentVolumeClaimSpec {
  std::vector<std::string> access_modes;
  std::optional<LabelSelector> selector;
  json resources;  // requests/limits of quantities, kept as written
  std::string volume_name;
  std::optional<std::string> storage_class_name;
  std::optional<std::string> volume_mode;
  STASH_APIS_STRUCT(PersistentVolumeClaimSpec);
};
STASH_APIS_DECLARE_CODEC(PersistentVolumeClaimSpec);

struct PersistentVolumeClaimStatus {
  std::string phase;  // Pending, Bound, Lost
  std::vector<std::string> access_modes;
  std::map<std::string, json> capacity;  // quantities
  STASH_APIS_STRUCT(PersistentVolumeClaimStatus);
};
STASH_APIS_DECLARE_CODEC(PersistentVolumeClaimStatus);

struct PersistentVolumeClaim {
  static const kube::Resource& Resource() { return kube::res::kPersistentVolumeClaims; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  PersistentVolumeClaimSpec spec;
  PersistentVolumeClaimStatus status;
  STASH_APIS_STRUCT(PersistentVolumeClaim);
};
STASH_APIS_DECLARE_CODEC(PersistentVolumeClaim);

struct Secret {
  static const kube::Resource& Resource() { return kube::res::kSecrets; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::optional<bool> immutable;
  std::map<std::string, Bytes> data;  // decoded; base64 in JSON
  std::map<std::string, std::string> string_data;
  std::string type;
  STASH_APIS_STRUCT(Secret);
};
STASH_APIS_DECLARE_CODEC(Secret);

struct ConfigMap {
  static const kube::Resource& Resource();
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::optional<bool> immutable;
  std::map<std::string, std::string> data;
  std::map<std::string, Bytes> binary_data;  // decoded; base64 in JSON
  STASH_APIS_STRUCT(ConfigMap);
};
STASH_APIS_DECLARE_CODEC(ConfigMap);

struct EventSource {
  std::string component;
  std::string host;
  STASH_APIS_STRUCT(EventSource);
};
STASH_APIS_DECLARE_CODEC(EventSource);

struct Event {
  static const kube::Resource& Resource() { return kube::res::kEvents; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  EventSource source;
  std::string first_timestamp;
  std::string last_timestamp;
  int32_t count = 0;
  std::string type;
  std::string event_time;
  std::string action;
  std::string reporting_component;  // always written, as Go
  std::string reporting_instance;   // always written, as Go
  STASH_APIS_STRUCT(Event);
};
STASH_APIS_DECLARE_CODEC(Event);

struct ServiceAccount {
  static const kube::Resource& Resource();
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::vector<ObjectReference> secrets;
  std::vector<LocalObjectReference> image_pull_secrets;
  std::optional<bool> automount_service_account_token;
  STASH_APIS_STRUCT(ServiceAccount);
};
STASH_APIS_DECLARE_CODEC(ServiceAccount);

struct NamespaceSpec {
  std::vector<std::string> finalizers;
  STASH_APIS_STRUCT(NamespaceSpec);
};
STASH_APIS_DECLARE_CODEC(NamespaceSpec);

struct NamespaceStatus {
  std::string phase;  // Active, Terminating
  STASH_APIS_STRUCT(NamespaceStatus);
};
STASH_APIS_DECLARE_CODEC(NamespaceStatus);

struct Namespace {
  static const kube::Resource& Resource() { return kube::res::kNamespaces; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  NamespaceSpec spec;
  NamespaceStatus status;
  STASH_APIS_STRUCT(Namespace);
};
STASH_APIS_DECLARE_CODEC(Namespace);

}  // namespace stash::apis
