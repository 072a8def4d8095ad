// create, update and patch, with the server-owned metadata (uid,
// creationTimestamp, generation, resourceVersion), CRD schema validation,
// the status and namespace finalize subresources; deletes are in
// writes_delete.cc.
#include <algorithm>
#include <set>

#include "errors.h"
#include "handler.h"
#include "meta_validation.h"
#include "object_meta.h"
#include "stash/api/patch.h"
#include "stash/api/protobuf.h"
#include "stash/api/schema.h"
#include "stash/core/base64.h"
#include "stash/core/id.h"
#include "volumes.h"
#include "workloads.h"
#include "yaml_json.h"

namespace stash::api {

namespace {

const char* kCrdKey = "apiextensions.k8s.io/customresourcedefinitions";

bool DryRunQuery(const HttpRequest& req) { return req.Query("dryRun") == "All"; }

std::string FieldValidation(const HttpRequest& req) {
  std::string v = req.Query("fieldValidation");
  return v.empty() ? "Warn" : v;
}

// The object without metadata and status: what metadata.generation tracks.
json SpecPart(json obj) {
  if (obj.is_object()) {
    obj.erase("metadata");
    obj.erase("status");
  }
  return obj;
}

// kube-apiserver's ValidateObjectMeta: 400 for a field of the wrong type,
// 422 for invalid names, labels, annotations or finalizers.
std::optional<HttpResponse> CheckMeta(const ResourceInfo& info, const json& obj, bool create) {
  MetaValidation v = ValidateObjectMeta(info, obj, create);
  if (!v.bad_request.ok()) return BadRequestResponse(v.bad_request.message());
  if (v.invalid.empty()) return std::nullopt;
  const json& meta = obj["metadata"];
  auto name = meta.find("name");
  return InvalidResponse(
      info, name != meta.end() && name->is_string() ? name->get<std::string>() : "", v.invalid);
}

std::string MetaString(const json& obj, const char* field) {
  const json& m = obj.contains("metadata") ? obj["metadata"] : json::object();
  return m.is_object() ? m.value(field, "") : "";
}

}  // namespace

std::optional<HttpResponse> ApiHandler::CheckNamespace(const Target& t, bool for_create) {
  if (!t.info.namespaced) return std::nullopt;
  auto ns = store_.Get("/namespaces", "", t.ns);
  if (!ns) return NamespaceNotFoundResponse(t.ns);
  if (for_create && (*ns)["metadata"].contains("deletionTimestamp")) {
    return StatusResponse(403, "Forbidden",
                          t.info.qualified() + " \"" + t.name +
                              "\" is forbidden: unable to create new content in namespace " + t.ns +
                              " because it is being terminated",
                          {{"name", t.name}, {"group", t.info.group}, {"kind", t.info.resource}});
  }
  return std::nullopt;
}

std::optional<HttpResponse> ApiHandler::Admit(const HttpRequest& req, const Target& t, json* obj,
                                              std::vector<std::string>* warnings) {
  const std::string kind = obj->value("kind", "");
  const std::string api_version = obj->value("apiVersion", "");
  if (!kind.empty() && kind != t.info.kind) {
    return BadRequestResponse("the kind in the body (" + kind + ") does not match the kind of " +
                              t.info.qualified() + " (" + t.info.kind + ")");
  }
  if (!api_version.empty() && api_version != t.info.group_version()) {
    return BadRequestResponse("the API version in the data (" + api_version +
                              ") does not match the expected API version (" +
                              t.info.group_version() + ")");
  }
  (*obj)["kind"] = t.info.kind;
  (*obj)["apiVersion"] = t.info.group_version();
  if (!obj->contains("metadata") || !(*obj)["metadata"].is_object()) {
    (*obj)["metadata"] = json::object();
  }
  if (t.info.key() == "/secrets") {
    if (obj->contains("stringData") && (*obj)["stringData"].is_object()) {
      for (auto& [k, v] : (*obj)["stringData"].items()) {
        if (v.is_string()) (*obj)["data"][k] = Base64Encode(v.get<std::string>());
      }
      obj->erase("stringData");
    }
    if (obj->value("type", "").empty()) (*obj)["type"] = "Opaque";
  }
  DefaultWorkloadObject(t.info.key(), obj);
  if (t.info.group == "admissionregistration.k8s.io") {
    // Accepted so installs that ship webhooks apply, but never silently:
    // this server calls no admission webhook.
    warnings->push_back(t.info.kind + " \"" + MetaField(*obj, "name") +
                        "\" is stored but not called: stash server calls no admission webhooks "
                        "(it runs Stash's own validations in-process)");
  }
  if (!t.info.custom || !t.info.schema.is_object()) return std::nullopt;
  const std::string mode = FieldValidation(req);
  std::vector<FieldError> errors = Validate(t.info.schema, *obj, mode == "Strict");
  std::vector<std::string> unknown;
  std::vector<FieldError> invalid;
  for (FieldError& e : errors) {
    if (e.type == "unknown field") {
      unknown.push_back(e.message);
    } else {
      invalid.push_back(std::move(e));
    }
  }
  if (!unknown.empty()) {
    std::string msg = "strict decoding error: ";
    for (size_t i = 0; i < unknown.size(); ++i) msg += (i ? ", " : "") + unknown[i];
    return BadRequestResponse(msg);
  }
  if (!invalid.empty()) return InvalidResponse(t.info, MetaString(*obj, "name"), invalid);
  PruneResult pruned = PruneUnknownFields(t.info.schema, *obj);
  if (mode == "Warn") {
    for (const std::string& f : pruned.pruned) warnings->push_back("unknown field \"" + f + "\"");
  }
  *obj = ApplyDefaults(t.info.schema, pruned.object);
  return std::nullopt;
}

HttpResponse ApiHandler::Create(const HttpRequest& req, const Target& t_in) {
  auto body = DecodeBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  json obj = std::move(*body);
  Target t = t_in;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  json& meta = obj["metadata"];
  if (t.info.namespaced) {
    std::string body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != t.ns) {
      return BadRequestResponse(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = t.ns;
  } else {
    meta.erase("namespace");
  }
  std::string name = meta.value("name", "");
  if (name.empty()) {
    std::string prefix = meta.value("generateName", "");
    if (prefix.empty()) {
      return InvalidResponse(t.info, "",
                             {{"metadata.name", "Required value",
                               "metadata.name: Required value: name or generateName is required",
                               "Required value: name or generateName is required"}});
    }
    static const char* kChars = "bcdfghjklmnpqrstvwxz2456789";
    // As kube's SimpleNameGenerator: the prefix is cut so the name stays a
    // DNS label's length.
    constexpr size_t kMaxGeneratedPrefix = 63 - 5;
    if (prefix.size() > kMaxGeneratedPrefix) prefix.resize(kMaxGeneratedPrefix);
    name = prefix;
    for (int i = 0; i < 5; ++i) name.push_back(kChars[random_.Uniform(27)]);
    meta["name"] = name;
  }
  t.name = name;
  if (auto err = CheckNamespace(t, true)) return *err;
  std::vector<std::string> warnings;
  if (t.info.status_subresource && t.info.key() != kCrdKey) obj.erase("status");
  if (auto err = Admit(req, t, &obj, &warnings)) return *err;
  if (auto err = CheckMeta(t.info, obj, true)) return *err;
  AdmitVolumeObject(t.info.key(), store_, &obj);
  if (auto err = ValidatingAdmission(req, t, obj, nullptr)) return *err;
  json& m = obj["metadata"];
  std::string now = FormatTimestamp(clock_.Now());
  uint8_t u[16];
  random_.Fill(u);
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  std::string hex = HexEncode(u, 16);
  m["uid"] = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
             hex.substr(16, 4) + "-" + hex.substr(20);
  m["creationTimestamp"] = now;
  m.erase("deletionTimestamp");
  m.erase("deletionGracePeriodSeconds");
  m.erase("resourceVersion");
  m.erase("managedFields");
  if (t.info.has_generation)
    m["generation"] = 1;
  else
    m.erase("generation");
  if (t.info.key() == "/namespaces") {
    m["labels"]["kubernetes.io/metadata.name"] = name;
    // The namespace controller's finalizer, beside any the client asked for.
    json finalizers = obj.value("/spec/finalizers"_json_pointer, json::array());
    if (!finalizers.is_array()) finalizers = json::array();
    if (std::find(finalizers.begin(), finalizers.end(), "kubernetes") == finalizers.end()) {
      finalizers.insert(finalizers.begin(), "kubernetes");
    }
    obj["spec"] = {{"finalizers", finalizers}};
    obj["status"] = {{"phase", "Active"}};
  } else if (t.info.key() == "/events") {
    if (!obj.contains("count")) obj["count"] = 1;
    if (!obj.contains("firstTimestamp") && obj.value("eventTime", json()).is_null()) {
      obj["firstTimestamp"] = now;
    }
    if (!obj.contains("lastTimestamp") && obj.value("eventTime", json()).is_null()) {
      obj["lastTimestamp"] = obj["firstTimestamp"];
    }
  } else if (t.info.key() == "batch/jobs") {
    GenerateJobSelector(&obj);
  } else if (t.info.key() == kCrdKey) {
    json spec = obj.value("spec", json::object());
    std::string storage;
    for (const json& v : spec.value("versions", json::array())) {
      if (v.value("storage", false)) storage = v.value("name", "");
    }
    obj["status"] = {{"acceptedNames", spec.value("names", json::object())},
                     {"conditions",
                      {{{"type", "NamesAccepted"},
                        {"status", "True"},
                        {"reason", "NoConflicts"},
                        {"lastTransitionTime", now},
                        {"message", "no conflicts found"}},
                       {{"type", "Established"},
                        {"status", "True"},
                        {"reason", "InitialNamesAccepted"},
                        {"lastTransitionTime", now},
                        {"message", "the initial names have been accepted"}}}},
                     {"storedVersions", storage.empty() ? json::array() : json::array({storage})}};
  }
  std::optional<HttpResponse> failure;
  auto r = store_.Mutate(
      t.info.key(), t.ns, name,
      [&](const json* current) -> Result<Mutation> {
        if (current) {
          failure = AlreadyExistsResponse(t.info, name);
          return CancelledError("exists");
        }
        return Mutation::Put(obj);
      },
      DryRunQuery(req));
  if (failure) return *failure;
  if (!r.ok()) return ErrorResponse(r.status());
  if (!DryRunQuery(req)) AfterWrite(t.info, t.ns, *r);
  return ObjectResponse(201, r->object, warnings);
}

ApiHandler::WriteOutcome ApiHandler::WriteExisting(const HttpRequest& req, const Target& t,
                                                   const Transform& transform) {
  WriteOutcome out;
  std::vector<std::string> warnings;
  auto r = store_.Mutate(
      t.info.key(), t.ns, t.name,
      [&](const json* current) -> Result<Mutation> {
        if (!current) {
          out.error = NotFoundResponse(t.info, t.name);
          return CancelledError("missing");
        }
        const json& cur = *current;
        json next;
        if (auto err = transform(cur, &next)) {
          out.error = std::move(err);
          return CancelledError("transform");
        }
        if (!next.is_object()) {
          out.error =
              BadRequestResponse("the patched or updated " + t.info.kind + " is not a JSON object");
          return CancelledError("shape");
        }
        if (!next.contains("metadata") || !next["metadata"].is_object()) {
          next["metadata"] = json::object();
        }
        const std::string cur_rv = MetaString(cur, "resourceVersion");
        const std::string want_rv = MetaString(next, "resourceVersion");
        if (!want_rv.empty() && want_rv != cur_rv) {
          out.error = ConflictResponse(t.info, t.name);
          return CancelledError("conflict");
        }
        if (t.sub == "finalize") {
          // Namespace finalize: only spec.finalizers changes.
          json finalizers = next.value("/spec/finalizers"_json_pointer, json::array());
          next = cur;
          next["spec"]["finalizers"] = finalizers;
        } else if (t.sub == "status") {
          json status = next.contains("status") ? next["status"] : json();
          next = cur;
          if (status.is_null())
            next.erase("status");
          else
            next["status"] = status;
        } else if (t.info.status_subresource && t.info.key() != kCrdKey) {
          if (cur.contains("status"))
            next["status"] = cur["status"];
          else
            next.erase("status");
        }
        json& m = next["metadata"];
        const json& cm = cur["metadata"];
        for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp",
                              "deletionGracePeriodSeconds", "generation", "namespace", "name"}) {
          if (cm.contains(f))
            m[f] = cm[f];
          else
            m.erase(f);
        }
        m.erase("managedFields");
        if (auto err = Admit(req, t, &next, &warnings)) {
          out.error = std::move(err);
          return CancelledError("admit");
        }
        if (auto err = CheckMeta(t.info, next, false)) {
          out.error = std::move(err);
          return CancelledError("metadata");
        }
        if (auto err = ValidatingAdmission(req, t, next, &cur)) {
          out.error = std::move(err);
          return CancelledError("admission");
        }
        if (t.info.has_generation && SpecPart(next) != SpecPart(cur)) {
          next["metadata"]["generation"] = cm.value("generation", 0) + 1;
        }
        next["metadata"]["resourceVersion"] = cur_rv;
        if (next == cur) return Mutation::Noop();
        if (next["metadata"].contains("deletionTimestamp") &&
            !HeldByFinalizers(next, t.info.key() == "/namespaces")) {
          return Mutation::Delete(next);
        }
        return Mutation::Put(next);
      },
      DryRunQuery(req));
  if (out.error) return out;
  if (!r.ok()) {
    out.error = ErrorResponse(r.status());
    return out;
  }
  out.result = std::move(*r);
  if (!DryRunQuery(req)) AfterWrite(t.info, t.ns, out.result);
  if (!warnings.empty()) {
    HttpResponse resp = ObjectResponse(200, out.result.object, warnings);
    out.error = std::move(resp);  // carries the warnings; status 200
  }
  return out;
}

HttpResponse ApiHandler::Update(const HttpRequest& req, const Target& t) {
  auto body = DecodeBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  json obj = std::move(*body);
  std::string body_name = MetaString(obj, "name");
  if (!body_name.empty() && body_name != t.name) {
    return BadRequestResponse("the name of the object (" + body_name +
                              ") does not match the name on the URL (" + t.name + ")");
  }
  WriteOutcome w =
      WriteExisting(req, t, [&](const json&, json* next) -> std::optional<HttpResponse> {
        *next = obj;
        return std::nullopt;
      });
  if (w.error) return *w.error;
  return ObjectResponse(200, w.result.object);
}

HttpResponse ApiHandler::Patch(const HttpRequest& req, const Target& t) {
  std::string ct = req.content_type.substr(0, req.content_type.find(';'));
  if (ct == "application/apply-patch+yaml") return ServerSideApply(req, t);
  const bool strategic = ct == "application/strategic-merge-patch+json";
  if ((strategic && t.info.custom) ||
      (ct != "application/merge-patch+json" && ct != "application/json-patch+json" && !strategic)) {
    return StatusResponse(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types "
        "include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml" +
            std::string(t.info.custom ? "" : ", application/strategic-merge-patch+json"));
  }
  auto patch = ParsePatchBody(req.body, ct);
  if (!patch.ok()) return ErrorResponse(patch.status());
  WriteOutcome w =
      WriteExisting(req, t, [&](const json& cur, json* next) -> std::optional<HttpResponse> {
        Result<json> r = ct == "application/json-patch+json" ? ApplyJsonPatch(cur, *patch)
                         : strategic ? ApplyStrategicMergePatch(cur, *patch, t.info.kind)
                                     : ApplyMergePatch(cur, *patch);
        if (!r.ok()) {
          if (r.status().code() == Code::kConflict) return ConflictResponse(t.info, t.name);
          if (r.status().code() == Code::kResourceExhausted) return ErrorResponse(r.status());
          return StatusResponse(422, "Invalid", r.status().message());
        }
        *next = std::move(*r);
        return std::nullopt;
      });
  if (w.error) return *w.error;
  return ObjectResponse(200, w.result.object);
}

// Server-side apply without field ownership: creates the object, or merges
// the applied configuration into it (RFC 7386), which is what a single
// manager applying a configuration observes.
HttpResponse ApiHandler::ServerSideApply(const HttpRequest& req, const Target& t) {
  auto docs = YamlToJson(req.body);
  if (!docs.ok()) return ErrorResponse(docs.status());
  if (docs->size() != 1 || !(*docs)[0].is_object()) {
    return BadRequestResponse("the applied configuration must be exactly one object");
  }
  json applied = std::move((*docs)[0]);
  std::string name = MetaString(applied, "name");
  if (!name.empty() && name != t.name) {
    return BadRequestResponse("the name of the object (" + name +
                              ") does not match the name on the URL (" + t.name + ")");
  }
  if (!store_.Get(t.info.key(), t.ns, t.name)) {
    HttpRequest create = req;
    applied["metadata"]["name"] = t.name;
    create.body = applied.dump();
    create.content_type = "application/json";
    Target list_target = t;
    list_target.name.clear();
    return Create(create, list_target);
  }
  WriteOutcome w =
      WriteExisting(req, t, [&](const json& cur, json* next) -> std::optional<HttpResponse> {
        auto r = ApplyMergePatch(cur, applied);
        if (!r.ok()) return ErrorResponse(r.status());
        *next = std::move(*r);
        return std::nullopt;
      });
  if (w.error) return *w.error;
  return ObjectResponse(200, w.result.object);
}

void ApiHandler::AfterWrite(const ResourceInfo& info, const std::string& ns,
                            const MutateResult& r) {
  if (r.kind == Mutation::kNoop) return;
  if (info.key() == kCrdKey) {
    if (r.kind == Mutation::kDelete) {
      const json& spec = r.object.value("spec", json::object());
      std::string key =
          spec.value("group", "") + "/" + spec.value("names", json::object()).value("plural", "");
      for (const json& obj : store_.List(key, "", nullptr)) {
        std::string name = obj["metadata"].value("name", "");
        std::string obj_ns = obj["metadata"].value("namespace", "");
        store_
            .Mutate(key, obj_ns, name,
                    [](const json* cur) -> Result<Mutation> {
                      if (!cur) return Mutation::Noop();
                      return Mutation::Delete(*cur);
                    })
            .status()
            .IgnoreError();
      }
    }
    ReloadCrds();
    return;
  }
}

}  // namespace stash::api
