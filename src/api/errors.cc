#include "errors.h"

#include "decode.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

json Details(const ResourceInfo& r, const std::string& name) {
  return {{"name", name}, {"group", r.group}, {"kind", r.resource}};
}

std::string CauseReason(const std::string& type) {
  if (type == "Required value") return "FieldValueRequired";
  if (type == "Unsupported value") return "FieldValueNotSupported";
  if (type == "Too long") return "FieldValueTooLong";
  if (type == "Too many") return "FieldValueTooMany";
  if (type == "Duplicate value") return "FieldValueDuplicate";
  if (type == "Forbidden") return "FieldValueForbidden";
  return "FieldValueInvalid";
}

}  // namespace

json StatusObject(int code, const std::string& reason, const std::string& message, json details) {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (!details.is_null()) s["details"] = std::move(details);
  s["code"] = code;
  return s;
}

HttpResponse JsonResponse(int code, const json& body) {
  HttpResponse r;
  r.status = code;
  r.body = DumpJson(body);
  return r;
}

HttpResponse StatusResponse(int code, const std::string& reason, const std::string& message,
                            json details) {
  return JsonResponse(code, StatusObject(code, reason, message, std::move(details)));
}

HttpResponse NotFoundResponse(const ResourceInfo& r, const std::string& name) {
  return StatusResponse(404, "NotFound", r.qualified() + " \"" + name + "\" not found",
                        Details(r, name));
}

HttpResponse AlreadyExistsResponse(const ResourceInfo& r, const std::string& name) {
  return StatusResponse(409, "AlreadyExists", r.qualified() + " \"" + name + "\" already exists",
                        Details(r, name));
}

HttpResponse ConflictResponse(const ResourceInfo& r, const std::string& name) {
  return StatusResponse(409, "Conflict",
                        "Operation cannot be fulfilled on " + r.qualified() + " \"" + name +
                            "\": the object has been modified; please apply your changes to the "
                            "latest version and try again",
                        Details(r, name));
}

HttpResponse NamespaceNotFoundResponse(const std::string& ns) {
  return StatusResponse(404, "NotFound", "namespaces \"" + ns + "\" not found",
                        {{"name", ns}, {"kind", "namespaces"}});
}

HttpResponse BadRequestResponse(const std::string& message) {
  return StatusResponse(400, "BadRequest", message);
}

HttpResponse InvalidResponse(const ResourceInfo& r, const std::string& name,
                             const std::vector<FieldError>& errors) {
  json causes = json::array();
  std::string joined;
  for (const FieldError& e : errors) {
    causes.push_back({{"reason", CauseReason(e.type)},
                      {"message", e.body.empty() ? e.message : e.body},
                      {"field", e.field}});
    if (!joined.empty()) joined += ", ";
    joined += e.message;
  }
  if (errors.size() > 1) joined = "[" + joined + "]";
  std::string qualified_kind = r.group.empty() ? r.kind : r.kind + "." + r.group;
  json details = {{"name", name}, {"group", r.group}, {"kind", r.kind}, {"causes", causes}};
  return StatusResponse(422, "Invalid", qualified_kind + " \"" + name + "\" is invalid: " + joined,
                        details);
}

HttpResponse PathNotFoundResponse() {
  return StatusResponse(404, "NotFound", "the server could not find the requested resource",
                        json::object());
}

HttpResponse ErrorResponse(const Status& status) {
  switch (status.code()) {
    case Code::kInvalid:
      return BadRequestResponse(status.message());
    case Code::kNotFound:
      return StatusResponse(404, "NotFound", status.message());
    case Code::kAlreadyExists:
      return StatusResponse(409, "AlreadyExists", status.message());
    case Code::kConflict:
      return StatusResponse(409, "Conflict", status.message());
    case Code::kUnauthorized:
      return StatusResponse(401, "Unauthorized", status.message());
    case Code::kForbidden:
      return StatusResponse(403, "Forbidden", status.message());
    case Code::kFailedPrecondition:
      return StatusResponse(410, "Expired", status.message());
    case Code::kUnsupported:
      return StatusResponse(415, "UnsupportedMediaType", status.message());
    case Code::kResourceExhausted:
      return StatusResponse(413, "RequestEntityTooLarge", status.message());
    case Code::kUnavailable:
      return StatusResponse(503, "ServiceUnavailable", status.message());
    case Code::kTimeout:
      return StatusResponse(504, "Timeout", status.message());
    default:
      return StatusResponse(500, "InternalError", status.message());
  }
}

}  // namespace stash::api
