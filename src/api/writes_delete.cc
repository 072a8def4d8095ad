// delete and deletecollection: preconditions, propagation policies
// (Background, Foreground, Orphan) as the garbage collector's finalizers,
// objects held by finalizers, and Namespaces turning Terminating (the
// namespace controller, controllers.h, empties and removes them).
#include "errors.h"
#include "handler.h"
#include "object_meta.h"
#include "stash/api/table.h"

namespace stash::api {

namespace {

const ResourceInfo& DeleteOptionsInfo() {
  static const ResourceInfo info = [] {
    ResourceInfo i;
    i.group = "meta.k8s.io";
    i.version = "v1";
    i.kind = "DeleteOptions";
    return i;
  }();
  return info;
}

}  // namespace

Result<MutateResult> ApiHandler::DeleteWithOptions(const ResourceInfo& info, const std::string& ns,
                                                   const std::string& name,
                                                   const DeleteOptions& options) {
  const bool is_namespace = info.key() == "/namespaces";
  const std::string now = FormatTimestamp(clock_.Now());
  auto r = store_.Mutate(
      info.key(), ns, name,
      [&](const json* current) -> Result<Mutation> {
        if (!current) return NotFoundError(info.qualified() + " \"" + name + "\" not found");
        const std::string uid = MetaField(*current, "uid");
        const std::string rv = MetaField(*current, "resourceVersion");
        if (!options.precondition_uid.empty() && options.precondition_uid != uid) {
          return ConflictError("Precondition failed: UID in precondition: " +
                               options.precondition_uid + ", UID in object meta: " + uid);
        }
        if (!options.precondition_rv.empty() && options.precondition_rv != rv) {
          return ConflictError("Precondition failed: ResourceVersion in precondition: " +
                               options.precondition_rv + ", ResourceVersion in object meta: " + rv);
        }
        json next = *current;
        ApplyPropagation(&next, options.propagation);
        if (!HeldByFinalizers(next, is_namespace)) return Mutation::Delete(*current);
        if (!IsTerminating(next)) {
          next["metadata"]["deletionTimestamp"] = now;
          next["metadata"]["deletionGracePeriodSeconds"] = 0;
          if (is_namespace) next["status"]["phase"] = "Terminating";
        }
        if (next == *current) return Mutation::Noop();
        return Mutation::Put(std::move(next));
      },
      options.dry_run);
  if (r.ok() && !options.dry_run) AfterWrite(info, ns, *r);
  return r;
}

std::optional<HttpResponse> ApiHandler::RequestDeleteOptions(const HttpRequest& req,
                                                             DeleteOptions* options) {
  json body;
  if (!req.body.empty()) {
    auto decoded = DecodeBody(req);
    if (!decoded.ok()) return ErrorResponse(decoded.status());
    body = std::move(*decoded);
  }
  std::vector<FieldError> invalid;
  *options = ParseDeleteOptions(req, body, &invalid);
  if (!invalid.empty()) return InvalidResponse(DeleteOptionsInfo(), "", invalid);
  return std::nullopt;
}

HttpResponse ApiHandler::Delete(const HttpRequest& req, const Target& t) {
  DeleteOptions options;
  if (auto bad = RequestDeleteOptions(req, &options)) return *bad;
  auto r = DeleteWithOptions(t.info, t.ns, t.name, options);
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return NotFoundResponse(t.info, t.name);
    if (r.status().code() == Code::kConflict) {
      return StatusResponse(409, "Conflict",
                            "Operation cannot be fulfilled on " + t.info.qualified() + " \"" +
                                t.name + "\": " + r.status().message(),
                            {{"name", t.name}, {"group", t.info.group}, {"kind", t.info.resource}});
    }
    return ErrorResponse(r.status());
  }
  if (r->kind != Mutation::kDelete) return ObjectResponse(200, r->object);
  return JsonResponse(200, {{"kind", "Status"},
                            {"apiVersion", "v1"},
                            {"metadata", json::object()},
                            {"status", "Success"},
                            {"details",
                             {{"name", t.name},
                              {"group", t.info.group},
                              {"kind", t.info.resource},
                              {"uid", MetaField(r->object, "uid")}}}});
}

HttpResponse ApiHandler::DeleteCollection(const HttpRequest& req, const Target& t) {
  DeleteOptions options;
  if (auto bad = RequestDeleteOptions(req, &options)) return *bad;
  HttpRequest list_req = req;
  list_req.accept = "application/json";
  HttpResponse listed = List(list_req, t);
  if (listed.status != 200) return listed;
  json list = json::parse(listed.body);
  for (const json& item : list["items"]) {
    auto r =
        DeleteWithOptions(t.info, MetaField(item, "namespace"), MetaField(item, "name"), options);
    if (!r.ok() && r.status().code() != Code::kNotFound) return ErrorResponse(r.status());
  }
  return JsonResponse(200, list);
}

}  // namespace stash::api
