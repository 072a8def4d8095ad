// core/v1 Node, as far as the embedded node registers and heartbeats its own:
// labels (metadata), capacity/allocatable, conditions, addresses, the
// kubelet's endpoint and nodeInfo. Members not modelled here (taints,
// images, ...) travel in each struct's `extra` and are written back
// unchanged (codec.h).
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct NodeCondition {
  std::string type;    // Ready, MemoryPressure, DiskPressure, PIDPressure
  std::string status;  // True, False, Unknown
  std::string last_heartbeat_time;
  std::string last_transition_time;
  std::string reason;
  std::string message;
  STASH_APIS_STRUCT(NodeCondition);
};
STASH_APIS_DECLARE_CODEC(NodeCondition);

struct NodeAddress {
  std::string type;  // InternalIP, Hostname, ...
  std::string address;
  STASH_APIS_STRUCT(NodeAddress);
};
STASH_APIS_DECLARE_CODEC(NodeAddress);

struct DaemonEndpoint {
  int32_t port = 0;  // "Port", always written, as Go
  STASH_APIS_STRUCT(DaemonEndpoint);
};
STASH_APIS_DECLARE_CODEC(DaemonEndpoint);

struct NodeDaemonEndpoints {
  DaemonEndpoint kubelet_endpoint;
  STASH_APIS_STRUCT(NodeDaemonEndpoints);
};
STASH_APIS_DECLARE_CODEC(NodeDaemonEndpoints);

// Every member always written, as Go.
struct NodeSystemInfo {
  std::string machine_id;
  std::string system_uuid;
  std::string boot_id;
  std::string kernel_version;
  std::string os_image;
  std::string container_runtime_version;
  std::string kubelet_version;
  std::string kube_proxy_version;
  std::string operating_system;
  std::string architecture;
  STASH_APIS_STRUCT(NodeSystemInfo);
};
STASH_APIS_DECLARE_CODEC(NodeSystemInfo);

// (images, volumesInUse, ... in extra)
struct NodeStatus {
  std::map<std::string, json> capacity;  // quantities: "2", "8035724Ki"
  std::map<std::string, json> allocatable;
  std::vector<NodeCondition> conditions;
  std::vector<NodeAddress> addresses;
  NodeDaemonEndpoints daemon_endpoints;
  NodeSystemInfo node_info;
  STASH_APIS_STRUCT(NodeStatus);
};
STASH_APIS_DECLARE_CODEC(NodeStatus);

// (podCIDR, taints, unschedulable, ... in extra)
struct NodeSpec {
  STASH_APIS_STRUCT(NodeSpec);
};
STASH_APIS_DECLARE_CODEC(NodeSpec);

struct Node {
  static const kube::Resource& Resource() { return kube::res::kNodes; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatus status;
  STASH_APIS_STRUCT(Node);
};
STASH_APIS_DECLARE_CODEC(Node);

}  // namespace stash::apis
