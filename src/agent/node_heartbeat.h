// NodeHeartbeat: the embedded node's Node object, kept as a kubelet keeps it:
// registered at start (labels, capacity, addresses, nodeInfo), then its
// conditions' lastHeartbeatTime renewed every 10 s, so `kubectl get nodes`
// shows it Ready while the node runs and Unknown (the API server's node
// lifecycle check) after it stopped.
//
// Thread-safety: Start/Stop from one thread; it runs on its own thread.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "stash/apis/node.h"
#include "stash/core/clock.h"
#include "stash/kube/client.h"

namespace stash::agent {

class NodeHeartbeat {
 public:
  NodeHeartbeat(const kube::Client& client, Clock& clock, std::string node_name,
                std::string data_dir);
  ~NodeHeartbeat();
  void Start();
  void Stop();

 private:
  void Loop();
  Status Register();
  Status Beat();
  apis::NodeStatus NodeStatus(SystemTime now) const;

  const kube::Client& client_;
  Clock& clock_;
  const std::string name_;
  const std::string data_dir_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> exited_{false};  // Loop returned (Stop wakes its sleeps until then)
  std::thread thread_;
};

}  // namespace stash::agent
