// Validating admission in the request path (admission plugins given to the
// server), and the AdmissionReview wire form for webhooks.
#include "stash/api/admission.h"

#include "errors.h"
#include "handler.h"
#include "object_meta.h"

namespace stash::api {

Result<AdmissionRequest> ParseAdmissionReview(const json& review) {
  if (!review.is_object() || review.value("kind", "") != "AdmissionReview" ||
      !review.contains("request") || !review["request"].is_object()) {
    return InvalidError("the body is not an AdmissionReview with a request");
  }
  const json& r = review["request"];
  AdmissionRequest a;
  a.uid = r.value("uid", "");
  a.operation = r.value("operation", "");
  const json kind = r.value("kind", json::object());
  const json resource = r.value("resource", json::object());
  a.group = resource.value("group", kind.value("group", ""));
  a.version = resource.value("version", kind.value("version", ""));
  a.kind = kind.value("kind", "");
  a.resource = resource.value("resource", "");
  a.sub_resource = r.value("subResource", "");
  a.ns = r.value("namespace", "");
  a.name = r.value("name", "");
  a.object = r.value("object", json());
  a.old_object = r.value("oldObject", json());
  a.dry_run = r.value("dryRun", false);
  if (a.uid.empty() || a.operation.empty() || a.resource.empty()) {
    return InvalidError("the AdmissionReview request lacks uid, operation or resource");
  }
  if (a.name.empty() && a.object.is_object()) a.name = MetaField(a.object, "name");
  return a;
}

json AdmissionReviewResponse(const json& review, const AdmissionVerdict& verdict) {
  json response = {{"uid", review.value("/request/uid"_json_pointer, "")},
                   {"allowed", verdict.allowed}};
  if (!verdict.allowed) {
    response["status"] = {{"status", "Failure"},
                          {"code", 403},
                          {"reason", "Forbidden"},
                          {"message", verdict.message}};
  }
  return {{"apiVersion", review.value("apiVersion", "admission.k8s.io/v1")},
          {"kind", "AdmissionReview"},
          {"response", response}};
}

void ApiHandler::SetAdmissionPlugins(AdmissionPlugins plugins) {
  std::lock_guard lock(plugins_mu_);
  plugins_ = std::move(plugins);
}

std::optional<HttpResponse> ApiHandler::ValidatingAdmission(const HttpRequest& req, const Target& t,
                                                            const json& obj, const json* old) {
  AdmissionPlugins plugins;
  {
    std::lock_guard lock(plugins_mu_);
    plugins = plugins_;
  }
  if (plugins.empty() || !t.sub.empty()) return std::nullopt;
  AdmissionRequest a;
  a.operation = old ? "UPDATE" : "CREATE";
  a.group = t.info.group;
  a.version = t.info.version;
  a.kind = t.info.kind;
  a.resource = t.info.resource;
  a.ns = t.ns;
  a.name = MetaField(obj, "name");
  a.object = obj;
  if (old) a.old_object = *old;
  a.dry_run = req.Query("dryRun") == "All";
  a.lookup = [this](const std::string& group, const std::string& resource, const std::string& ns,
                    const std::string& name) {
    return store_.Get(group + "/" + resource, ns, name);
  };
  for (const auto& p : plugins) {
    if (!p->Handles(a.group, a.resource)) continue;
    AdmissionVerdict v = p->Review(a);
    if (v.allowed) continue;
    std::string message = "admission webhook \"" + p->name() + "\" denied the request";
    message += v.message.empty() ? " without explanation" : ": " + v.message;
    return StatusResponse(403, "Forbidden", message);
  }
  return std::nullopt;
}

}  // namespace stash::api
