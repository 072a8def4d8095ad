#include "deletion.h"

#include "object_meta.h"

namespace stash::api {

namespace {

FieldError Unsupported(const std::string& value) {
  std::string body = "Unsupported value: \"" + value +
                     "\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"";
  return {"propagationPolicy", "Unsupported value", "propagationPolicy: " + body, body};
}

}  // namespace

DeleteOptions ParseDeleteOptions(const HttpRequest& req, const nlohmann::json& body,
                                 std::vector<FieldError>* errors) {
  DeleteOptions o;
  const json opts = body.is_object() ? body : json::object();
  std::string policy = opts.value("propagationPolicy", req.Query("propagationPolicy"));
  json orphan = opts.contains("orphanDependents") ? opts["orphanDependents"] : json();
  if (orphan.is_null() && !req.Query("orphanDependents").empty()) {
    orphan = req.Query("orphanDependents") == "true";
  }
  if (!policy.empty() && orphan.is_boolean()) {
    std::string body_text = "Invalid value: \"" + policy +
                            "\": orphanDependents and deletionPropagation cannot be both set";
    errors->push_back(
        {"propagationPolicy", "Invalid value", "propagationPolicy: " + body_text, body_text});
  }
  if (policy == "Foreground") {
    o.propagation = Propagation::kForeground;
  } else if (policy == "Background") {
    o.propagation = Propagation::kBackground;
  } else if (policy == "Orphan") {
    o.propagation = Propagation::kOrphan;
  } else if (!policy.empty()) {
    errors->push_back(Unsupported(policy));
  } else if (orphan.is_boolean()) {
    o.propagation = orphan.get<bool>() ? Propagation::kOrphan : Propagation::kBackground;
  }
  o.dry_run = req.Query("dryRun") == "All";
  if (opts.contains("dryRun") && opts["dryRun"].is_array()) {
    for (const json& v : opts["dryRun"]) o.dry_run |= v == "All";
  }
  if (opts.contains("preconditions") && opts["preconditions"].is_object()) {
    const json& p = opts["preconditions"];
    if (p.contains("uid") && p["uid"].is_string()) o.precondition_uid = p["uid"];
    if (p.contains("resourceVersion") && p["resourceVersion"].is_string()) {
      o.precondition_rv = p["resourceVersion"];
    }
  }
  return o;
}

bool ApplyPropagation(json* obj, Propagation propagation) {
  switch (propagation) {
    case Propagation::kUnset:
      return false;
    case Propagation::kBackground: {
      bool a = RemoveFinalizer(obj, kOrphanFinalizer);
      bool b = RemoveFinalizer(obj, kForegroundFinalizer);
      return a || b;
    }
    case Propagation::kForeground: {
      bool a = RemoveFinalizer(obj, kOrphanFinalizer);
      bool b = AddFinalizer(obj, kForegroundFinalizer);
      return a || b;
    }
    case Propagation::kOrphan: {
      bool a = RemoveFinalizer(obj, kForegroundFinalizer);
      bool b = AddFinalizer(obj, kOrphanFinalizer);
      return a || b;
    }
  }
  return false;
}

}  // namespace stash::api
