// Validating admission: plugins that the API server asks before it stores a
// create or an update of the kinds they handle — kube-apiserver's validating
// admission webhooks, but in-process for the embedded server — and the
// AdmissionReview (admission.k8s.io/v1) wire form in which the operator
// serves the same plugins to a real cluster (WebhookServer).
//
// A denial reaches the client as kube-apiserver reports a webhook's denial:
// 403 Forbidden, `admission webhook "<name>" denied the request: <message>`.
//
// Thread-safety: plugins must allow concurrent Review calls; the free
// functions are stateless.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "stash/core/result.h"

namespace stash::api {

// Reads another object (a Repository, a Namespace...) while reviewing:
// group ("" for core), plural resource, namespace ("" for cluster-scoped)
// and name; nullopt when it does not exist.
using ObjectLookup = std::function<std::optional<nlohmann::json>(
    const std::string& group, const std::string& resource, const std::string& ns,
    const std::string& name)>;

struct AdmissionRequest {
  std::string uid;        // the review's uid (webhooks echo it)
  std::string operation;  // "CREATE" or "UPDATE"
  std::string group, version, kind, resource, sub_resource;
  std::string ns, name;
  nlohmann::json object;      // as it would be stored (defaults applied)
  nlohmann::json old_object;  // UPDATE: as stored now
  bool dry_run = false;
  ObjectLookup lookup;  // may be empty: checks that need other objects are skipped
};

struct AdmissionVerdict {
  bool allowed = true;
  std::string message;  // why not
  static AdmissionVerdict Allow() { return {}; }
  static AdmissionVerdict Deny(std::string why) { return {false, std::move(why)}; }
};

class AdmissionPlugin {
 public:
  virtual ~AdmissionPlugin() = default;
  // The webhook's name, as in a ValidatingWebhookConfiguration
  // ("backupconfiguration.admission.stash.appscode.com").
  virtual std::string name() const = 0;
  // Whether it reviews this group/resource (the main resource, not
  // subresources).
  virtual bool Handles(const std::string& group, const std::string& resource) const = 0;
  virtual AdmissionVerdict Review(const AdmissionRequest& request) const = 0;
};

using AdmissionPlugins = std::vector<std::shared_ptr<const AdmissionPlugin>>;

// An AdmissionReview request (admission.k8s.io/v1 or v1beta1) as a webhook
// receives it; kInvalid when it is not one.
Result<AdmissionRequest> ParseAdmissionReview(const nlohmann::json& review);
// The AdmissionReview a webhook answers with (same apiVersion as asked).
nlohmann::json AdmissionReviewResponse(const nlohmann::json& review,
                                       const AdmissionVerdict& verdict);

}  // namespace stash::api
