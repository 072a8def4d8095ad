// Writes of the in-process controllers (controllers.h): create through the
// same path as a POST, and read-modify-write under the store's write lock.
#include <nlohmann/json.hpp>

#include "errors.h"
#include "handler.h"
#include "object_meta.h"

namespace stash::api {

Result<json> ApiHandler::CreateObject(const ResourceInfo& info, const std::string& ns,
                                      const json& obj) {
  HttpRequest req;
  req.method = "POST";
  req.content_type = "application/json";
  req.body = obj.dump();
  Target t{info, ns, "", ""};
  HttpResponse r = Create(req, t);
  json body = json::parse(r.body, nullptr, false);
  if (r.status == 201 && body.is_object()) return body;
  std::string message = body.is_object() ? body.value("message", r.body) : r.body;
  if (r.status == 409) return AlreadyExistsError(message);
  if (r.status == 404) return NotFoundError(message);
  if (r.status == 403) return ForbiddenError(message);
  if (r.status == 400 || r.status == 422) return InvalidError(message);
  return InternalError("creating " + info.qualified() + ": " + message);
}

Result<MutateResult> ApiHandler::ModifyObject(const ResourceInfo& info, const std::string& ns,
                                              const std::string& name, const std::string& uid,
                                              const std::function<Status(json* obj)>& edit) {
  const bool is_namespace = info.key() == "/namespaces";
  auto r = store_.Mutate(info.key(), ns, name, [&](const json* current) -> Result<Mutation> {
    if (!current) return NotFoundError(info.qualified() + " \"" + name + "\" not found");
    if (!uid.empty() && MetaField(*current, "uid") != uid) {
      return ConflictError(info.qualified() + " \"" + name + "\" was replaced (uid " +
                           MetaField(*current, "uid") + ", expected " + uid + ")");
    }
    json next = *current;
    STASH_RETURN_IF_ERROR(edit(&next));
    if (next == *current) return Mutation::Noop();
    if (IsTerminating(next) && !HeldByFinalizers(next, is_namespace)) {
      return Mutation::Delete(std::move(next));
    }
    return Mutation::Put(std::move(next));
  });
  if (r.ok()) AfterWrite(info, ns, *r);
  return r;
}

}  // namespace stash::api
