// get, list and delete of resources served by a ResourceProvider (aggregated
// APIs such as Stash's Snapshots): the provider computes the objects, this
// file adds what kube-apiserver adds around an aggregated server's answer.
#include <spdlog/spdlog.h>

#include "errors.h"
#include "handler.h"

namespace stash::api {

namespace {

// A provider's failure as the apiserver reports an aggregated server's: the
// codes that name the object keep their meaning; a credential or storage
// problem of the provider (e.g. a repository's wrong password) is the
// server's InternalError, never 401/403, which kubectl would blame on the
// user's own credentials.
HttpResponse ProviderError(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound:
    case Code::kInvalid:
    case Code::kConflict:
    case Code::kUnavailable:
    case Code::kTimeout:
      return ErrorResponse(s);
    default:
      return StatusResponse(500, "InternalError", "Internal error occurred: " + s.message());
  }
}

HttpResponse MethodNotAllowed() {
  return StatusResponse(405, "MethodNotAllowed",
                        "the server does not allow this method on the requested resource");
}

bool Allows(const ResourceInfo& info, const std::string& verb) {
  return std::find(info.verbs.begin(), info.verbs.end(), verb) != info.verbs.end();
}

}  // namespace

HttpResponse ServeProvided(const HttpRequest& req, const ResourceInfo& info, const std::string& ns,
                           const std::string& name, Clock& clock) {
  ResourceProvider& provider = *info.provider;
  const bool watch =
      req.Query("watch") == "true" || req.Query("watch") == "True" || req.Query("watch") == "1";
  if (req.method == "GET" && !name.empty()) {
    auto obj = provider.Get(ns, name);
    if (!obj.ok()) return ProviderError(obj.status());
    json out = WithKind(std::move(*obj), info);
    if (WantsTable(req)) {
      json table = BuildTable(info.columns, {out}, clock.Now(), IncludeParam(req));
      table["metadata"] = json::object();
      return JsonResponse(200, table);
    }
    return JsonResponse(200, out);
  }
  if (req.method == "GET" && !watch && Allows(info, "list")) {
    Selectors sel;
    if (auto err = ParseSelectors(req, info, &sel)) return *err;
    auto items = provider.List(ns, sel.labels);
    if (!items.ok()) return ProviderError(items.status());
    std::vector<json> matched;
    for (json& obj : *items) {
      if (sel.Matches(obj)) matched.push_back(WithKind(std::move(obj), info));
    }
    // No resourceVersion and no paging: the objects are computed on each
    // request (a `limit` is answered with everything, which clients accept).
    if (WantsTable(req)) {
      json table = BuildTable(info.columns, matched, clock.Now(), IncludeParam(req));
      table["metadata"] = json::object();
      return JsonResponse(200, table);
    }
    return JsonResponse(200, {{"kind", info.kind + "List"},
                              {"apiVersion", info.group_version()},
                              {"metadata", json::object()},
                              {"items", std::move(matched)}});
  }
  if (req.method == "DELETE" && !name.empty() && Allows(info, "delete")) {
    auto gone = provider.Delete(ns, name);
    if (!gone.ok()) return ProviderError(gone.status());
    spdlog::info("deleted {} {}/{}", info.qualified(), ns, name);
    json details = {{"name", name}, {"group", info.group}, {"kind", info.resource}};
    if (std::string uid = gone->value("/metadata/uid"_json_pointer, ""); !uid.empty()) {
      details["uid"] = uid;
    }
    json status = StatusObject(200, "", "", std::move(details));
    status["status"] = "Success";
    status.erase("reason");
    status.erase("message");
    return JsonResponse(200, status);
  }
  return MethodNotAllowed();
}

}  // namespace stash::api
