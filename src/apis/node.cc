#include "stash/apis/node.h"

namespace stash::apis {

template <class V>
void NodeCondition::Visit(V& v) {
  v("type", type);
  v("status", status);
  v("lastHeartbeatTime", last_heartbeat_time);
  v("lastTransitionTime", last_transition_time);
  v("reason", reason);
  v("message", message);
}
STASH_APIS_DEFINE_CODEC(NodeCondition);

template <class V>
void NodeAddress::Visit(V& v) {
  v("type", type);
  v("address", address);
}
STASH_APIS_DEFINE_CODEC(NodeAddress);

template <class V>
void DaemonEndpoint::Visit(V& v) {
  v("Port", port, Emit::kAlways);
}
STASH_APIS_DEFINE_CODEC(DaemonEndpoint);

template <class V>
void NodeDaemonEndpoints::Visit(V& v) {
  v("kubeletEndpoint", kubelet_endpoint);
}
STASH_APIS_DEFINE_CODEC(NodeDaemonEndpoints);

template <class V>
void NodeSystemInfo::Visit(V& v) {
  v("machineID", machine_id, Emit::kAlways);
  v("systemUUID", system_uuid, Emit::kAlways);
  v("bootID", boot_id, Emit::kAlways);
  v("kernelVersion", kernel_version, Emit::kAlways);
  v("osImage", os_image, Emit::kAlways);
  v("containerRuntimeVersion", container_runtime_version, Emit::kAlways);
  v("kubeletVersion", kubelet_version, Emit::kAlways);
  v("kubeProxyVersion", kube_proxy_version, Emit::kAlways);
  v("operatingSystem", operating_system, Emit::kAlways);
  v("architecture", architecture, Emit::kAlways);
}
STASH_APIS_DEFINE_CODEC(NodeSystemInfo);

template <class V>
void NodeStatus::Visit(V& v) {
  v("capacity", capacity);
  v("allocatable", allocatable);
  v("conditions", conditions);
  v("addresses", addresses);
  v("daemonEndpoints", daemon_endpoints);
  v("nodeInfo", node_info);
}
STASH_APIS_DEFINE_CODEC(NodeStatus);

template <class V>
void NodeSpec::Visit(V&) {}
STASH_APIS_DEFINE_CODEC(NodeSpec);

template <class V>
void Node::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec, Emit::kAlways);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Node);

}  // namespace stash::apis
