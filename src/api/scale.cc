// The scale subresource (autoscaling/v1 Scale) of deployments, statefulsets,
// replicasets and CRDs that declare one: what `kubectl scale` reads and
// patches. Writing it changes only the object's replicas field.
#include "errors.h"
#include "handler.h"
#include "object_meta.h"
#include "stash/api/patch.h"
#include "stash/api/selector.h"

namespace stash::api {

namespace {

// ".spec.replicas" -> "/spec/replicas"
json::json_pointer Pointer(const std::string& path) {
  std::string p = path;
  for (char& c : p) {
    if (c == '.') c = '/';
  }
  return json::json_pointer(p.empty() || p[0] != '/' ? "/" + p : p);
}

json ScaleOf(const ResourceInfo& info, const json& obj) {
  const json& s = info.scale;
  auto spec_path = Pointer(s.value("specReplicasPath", ".spec.replicas"));
  auto status_path = Pointer(s.value("statusReplicasPath", ".status.replicas"));
  std::string selector;
  if (s.contains("labelSelectorPath")) {
    auto p = Pointer(s.value("labelSelectorPath", ""));
    if (obj.contains(p) && obj.at(p).is_string()) selector = obj.at(p).get<std::string>();
  } else if (obj.contains("/spec/selector"_json_pointer)) {
    auto sel = LabelSelector::FromJson(obj.at("/spec/selector"_json_pointer));
    if (sel.ok()) selector = sel->ToString();
  }
  // Built-in workloads default spec.replicas to 1.
  json replicas = obj.contains(spec_path) ? obj.at(spec_path) : json(info.custom ? 0 : 1);
  json status = {{"replicas", obj.contains(status_path) ? obj.at(status_path) : json(0)}};
  if (!selector.empty()) status["selector"] = selector;
  json meta = {
      {"name", MetaField(obj, "name")},
      {"uid", MetaField(obj, "uid")},
      {"resourceVersion", MetaField(obj, "resourceVersion")},
      {"creationTimestamp", obj.value("/metadata/creationTimestamp"_json_pointer, json())}};
  if (!MetaField(obj, "namespace").empty()) meta["namespace"] = MetaField(obj, "namespace");
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", meta},
          {"spec", {{"replicas", replicas}}},
          {"status", status}};
}

const ResourceInfo& ScaleInfo() {
  static const ResourceInfo info = [] {
    ResourceInfo i;
    i.group = "autoscaling";
    i.version = "v1";
    i.resource = "scale";
    i.kind = "Scale";
    return i;
  }();
  return info;
}

}  // namespace

HttpResponse ApiHandler::Scale(const HttpRequest& req, const Target& t) {
  if (req.method == "GET") {
    auto obj = store_.Get(t.info.key(), t.ns, t.name);
    if (!obj) return NotFoundResponse(t.info, t.name);
    return ObjectResponse(200, ScaleOf(t.info, *obj));
  }
  if (req.method != "PUT" && req.method != "PATCH") {
    return StatusResponse(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource");
  }
  json body;
  std::string ct = req.content_type.substr(0, req.content_type.find(';'));
  if (req.method == "PUT") {
    auto decoded = DecodeBody(req);
    if (!decoded.ok()) return ErrorResponse(decoded.status());
    body = std::move(*decoded);
  } else {
    if (ct != "application/merge-patch+json" && ct != "application/json-patch+json" &&
        ct != "application/strategic-merge-patch+json") {
      return StatusResponse(415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media "
                            "types include: application/json-patch+json, "
                            "application/merge-patch+json, application/strategic-merge-patch+json");
    }
    auto patch = ParsePatchBody(req.body, ct);
    if (!patch.ok()) return ErrorResponse(patch.status());
    body = std::move(*patch);
  }
  const auto spec_path = Pointer(t.info.scale.value("specReplicasPath", ".spec.replicas"));
  WriteOutcome w =
      WriteExisting(req, t, [&](const json& cur, json* next) -> std::optional<HttpResponse> {
        json scale = ScaleOf(t.info, cur);
        json wanted;
        if (req.method == "PUT") {
          wanted = body;
        } else {
          auto r = ct == "application/json-patch+json" ? ApplyJsonPatch(scale, body)
                                                       : ApplyMergePatch(scale, body);
          if (!r.ok()) return StatusResponse(422, "Invalid", r.status().message());
          wanted = std::move(*r);
        }
        std::string want_rv = MetaField(wanted, "resourceVersion");
        if (!want_rv.empty() && want_rv != MetaField(cur, "resourceVersion")) {
          return ConflictResponse(t.info, t.name);
        }
        const json replicas = wanted.value("/spec/replicas"_json_pointer, json());
        if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0) {
          std::string shown = replicas.is_null() ? "null" : replicas.dump();
          std::string msg = "Invalid value: " + shown + ": must be greater than or equal to 0";
          return InvalidResponse(
              ScaleInfo(), t.name,
              {{"spec.replicas", "Invalid value", "spec.replicas: " + msg, msg}});
        }
        *next = cur;
        (*next)[spec_path] = replicas;
        return std::nullopt;
      });
  if (w.error) {
    if (w.error->status != 200) return *w.error;
    return ObjectResponse(200, ScaleOf(t.info, w.result.object));
  }
  return ObjectResponse(200, ScaleOf(t.info, w.result.object));
}

}  // namespace stash::api
