// EndpointsController: kube-controller-manager's endpoints controller. For
// each Service with a selector (not ExternalName) it keeps the Endpoints
// object of the same name in step with the pods of its namespace that match
// the selector:
//  - a pod counts once the node reports its IP (status.podIP), unless it is
//    terminating or finished for good (Succeeded, or Failed without a
//    restart); Ready pods (condition Ready True) are `addresses`, the others
//    `notReadyAddresses` (every pod is an address with
//    spec.publishNotReadyAddresses, terminating ones included);
//  - each address carries nodeName, targetRef (the Pod) and, when the pod's
//    subdomain is the Service, its hostname;
//  - each Service port becomes an endpoint port (name, protocol,
//    appProtocol) whose number is targetPort: a number as is (absent: the
//    Service port), a name looked up among the pod's containerPorts (a pod
//    without that port is left out of that port);
//  - addresses with the same ports share one subset (kube's RepackSubsets),
//    sorted by IP; a headless Service without ports lists addresses alone;
//  - the Endpoints carry the Service's labels (plus
//    service.kubernetes.io/headless for clusterIP None) and are written only
//    when they change. Deleting the Service deletes its Endpoints.
// A Service without a selector is left alone: its Endpoints are the user's.
// (EndpointSlices are not kept: kubectl 1.32 and this server's aggregator
// read Endpoints.)
//
// Thread-safety: driven by ControllerManager's one thread.
#pragma once

#include <string>

#include "controllers.h"

namespace stash::api {

// The Endpoints `subsets` for `service` and the pods of its namespace (pure;
// exposed for tests).
json EndpointSubsets(const json& service, const std::vector<json>& pods);

class EndpointsController final : public Controller {
 public:
  explicit EndpointsController(ControllerContext& ctx) : ctx_(ctx) {}
  std::string prefix() const override { return "ep"; }
  void OnEvent(const WatchEvent& event) override;
  void Process(const std::string& item) override;

 private:
  void Sync(const std::string& ns, const std::string& name);
  void EnqueueNamespace(const std::string& ns);
  ControllerContext& ctx_;
};

}  // namespace stash::api
