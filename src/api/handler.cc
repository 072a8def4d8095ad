#include "handler.h"

#include <spdlog/spdlog.h>

#include "decode.h"
#include "errors.h"
#include "meta_validation.h"
#include "stash/api/protobuf.h"

namespace stash::api {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

HttpResponse ObjectResponse(int code, const json& object,
                            const std::vector<std::string>& warnings) {
  HttpResponse r = JsonResponse(code, object);
  for (const std::string& w : warnings) {
    // RFC 7234 warn-text: a quoted string, as Go's strconv.Quote writes it.
    std::string quoted = "\"";
    for (char c : w) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    r.headers.push_back({"Warning", "299 - " + quoted + "\""});
  }
  return r;
}

ApiHandler::ApiHandler(Store& store, Registry& registry, Clock& clock, Random& random, Auth& auth)
    : store_(store), registry_(registry), clock_(clock), random_(random), auth_(auth) {}

HttpResponse ApiHandler::Handle(const HttpRequest& req) {
  // The edge of the JSON library: a value of an unexpected type deep in a
  // client's object must become an answer, never an exception that ends
  // the process.
  try {
    return Authorized(req);
  } catch (const json::exception& e) {
    return BadRequestResponse(std::string("the request could not be processed: ") +
                              ToValidUtf8(e.what()));
  } catch (const std::bad_alloc&) {
    return StatusResponse(413, "RequestEntityTooLarge",
                          "Request entity too large: the request needs more memory than this "
                          "server allows");
  } catch (const std::exception& e) {
    spdlog::error("API request {} {} failed: {}", req.method, ToValidUtf8(req.path), e.what());
    return StatusResponse(500, "InternalError",
                          "Internal error occurred: " + ToValidUtf8(e.what()));
  }
}

HttpResponse ApiHandler::Authorized(const HttpRequest& req) {
  // Every request is authenticated and authorized first (401/403), as in
  // kube-apiserver; reviews and TokenRequests are answered by Auth itself.
  Auth::Outcome who = auth_.Check(req);
  if (who.response) return std::move(*who.response);
  // The connection layer keeps authenticated clients' connections longest.
  const bool authenticated = who.user.name != kAnonymousUser;
  HttpResponse r = [&] {
    if (auto served = auth_.Serve(req, who)) return std::move(*served);
    if (auto proxied = Aggregated(req, who.user)) return std::move(*proxied);
    return Route(req);
  }();
  r.authenticated = authenticated;
  return r;
}

std::optional<HttpResponse> ApiHandler::Aggregated(const HttpRequest& req, const UserInfo& user) {
  Aggregator* aggregator = aggregator_.load();
  std::vector<std::string> parts = SplitPath(req.path);
  if (!aggregator || parts.empty() || parts[0] != "apis") return std::nullopt;
  if (parts.size() >= 3) {
    auto apiservice = aggregator->Find(parts[1], parts[2]);
    if (!apiservice) return std::nullopt;
    return aggregator->Proxy(req, *apiservice, user);
  }
  if (req.method != "GET") return std::nullopt;
  if (parts.size() == 1) {
    // Aggregated discovery lists resources: only then ask the backends.
    const bool v2 = req.accept.find("as=APIGroupDiscoveryList") != std::string::npos;
    return ApisDiscovery(registry_, req, false, aggregator->Groups(v2));
  }
  for (const AggregatedGroup& g : aggregator->Groups(false)) {
    if (g.group != parts[1]) continue;
    json out = ApiGroupJson(g.group, g.versions);
    out["kind"] = "APIGroup";
    out["apiVersion"] = "v1";
    return JsonResponse(200, out);
  }
  return std::nullopt;
}

HttpResponse ApiHandler::Route(const HttpRequest& req) {
  std::vector<std::string> parts = SplitPath(req.path);
  const bool get = req.method == "GET";
  if (req.path == "/version" && get) {
    return JsonResponse(200, {{"major", "1"},
                              {"minor", "32"},
                              {"gitVersion", "v1.32.4"},
                              {"gitCommit", "stash-embedded"},
                              {"gitTreeState", "clean"},
                              {"buildDate", "2025-01-01T00:00:00Z"},
                              {"goVersion", "go1.23.0"},
                              {"compiler", "gc"},
                              {"platform", "linux/amd64"}});
  }
  if ((req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz") && get) {
    HttpResponse r;
    r.content_type = "text/plain";
    r.body = "ok";
    return r;
  }
  if (parts.empty()) return PathNotFoundResponse();
  if (parts[0] == "openapi" && get) {
    if (parts.size() == 2 && parts[1] == "v3") return OpenApiRoot();
    if (parts.size() == 2 && parts[1] == "v2" && req.accept.find("protobuf") != std::string::npos) {
      // An empty (valid) OpenAPI v2 protobuf document: schemas live in v3.
      // With it, kubectl's fallbacks end in its own messages (e.g. `no
      // matches for kind`) instead of "failed to download openapi".
      HttpResponse r;
      r.content_type = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
      return r;
    }
    if (parts.size() == 4 && parts[1] == "v3" && parts[2] == "api") {
      return OpenApiGroupVersion(registry_, "", parts[3]);
    }
    if (parts.size() == 5 && parts[1] == "v3" && parts[2] == "apis") {
      if (Aggregator* aggregator = aggregator_.load()) {
        if (auto apiservice = aggregator->Find(parts[3], parts[4])) {
          return aggregator->OpenApiV3(*apiservice);
        }
      }
      return OpenApiGroupVersion(registry_, parts[3], parts[4]);
    }
    return PathNotFoundResponse();
  }
  size_t gv_len;
  std::string group, version;
  if (parts[0] == "api") {
    if (parts.size() == 1)
      return get ? ApisDiscovery(registry_, req, true) : PathNotFoundResponse();
    version = parts[1];
    gv_len = 2;
  } else if (parts[0] == "apis") {
    if (parts.size() == 1)
      return get ? ApisDiscovery(registry_, req, false) : PathNotFoundResponse();
    if (parts.size() == 2)
      return get ? GroupDiscovery(registry_, parts[1]) : PathNotFoundResponse();
    group = parts[1];
    version = parts[2];
    gv_len = 3;
  } else {
    return PathNotFoundResponse();
  }
  if (parts.size() == gv_len) {
    return get ? GroupVersionDiscovery(registry_, group, version) : PathNotFoundResponse();
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(gv_len), parts.end());
  Target t;
  ResourcePath rp;
  if (!SplitResourcePath(rest, &rp)) return PathNotFoundResponse();
  t.ns = rp.ns;
  t.name = rp.name;
  t.sub = rp.sub;
  auto info = registry_.Find(group, version, rp.resource);
  if (!info) return PathNotFoundResponse();
  t.info = *info;
  if (!t.info.namespaced && !t.ns.empty()) return PathNotFoundResponse();
  if (t.info.namespaced && t.ns.empty() && !t.name.empty()) return PathNotFoundResponse();
  const bool pod_stream =
      t.info.group.empty() && t.info.resource == "pods" && (t.sub == "log" || t.sub == "exec");
  if (!t.sub.empty() && !(t.sub == "status" && t.info.status_subresource) &&
      !(t.sub == "scale" && t.info.scale.is_object()) &&
      !(t.sub == "finalize" && t.info.resource == "namespaces") && !pod_stream) {
    return PathNotFoundResponse();
  }
  if (t.sub == "scale") return Scale(req, t);
  if (pod_stream) return t.sub == "log" ? PodLog(req, t) : PodExec(req, t);
  bool watch =
      req.Query("watch") == "true" || req.Query("watch") == "True" || req.Query("watch") == "1";
  if (t.info.provider) return ServeProvided(req, t.info, t.ns, t.name, clock_);
  if (req.method == "GET") {
    if (t.name.empty()) return watch ? Watch(req, t) : List(req, t);
    return Get(req, t);
  }
  if (req.method == "POST" && t.name.empty()) return Create(req, t);
  if (req.method == "PUT" && !t.name.empty()) return Update(req, t);
  if (req.method == "PATCH" && !t.name.empty()) return Patch(req, t);
  if (req.method == "DELETE") return t.name.empty() ? DeleteCollection(req, t) : Delete(req, t);
  return StatusResponse(405, "MethodNotAllowed",
                        "the server does not allow this method on the requested resource");
}

bool SplitResourcePath(const std::vector<std::string>& rest, ResourcePath* out) {
  if (rest.empty()) return false;
  if (rest[0] == "namespaces" && rest.size() >= 3 &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    out->ns = rest[1];
    out->resource = rest[2];
    if (rest.size() > 3) out->name = rest[3];
    if (rest.size() > 4) out->sub = rest[4];
    return rest.size() <= 5;
  }
  out->resource = rest[0];
  if (rest.size() > 1) out->name = rest[1];
  if (rest.size() > 2) out->sub = rest[2];
  return rest.size() <= 3;
}

Result<json> ApiHandler::DecodeBody(const HttpRequest& req) {
  STASH_ASSIGN_OR_RETURN(json body, DecodeObjectBody(req.content_type, req.body));
  STASH_RETURN_IF_ERROR(CheckTypeMeta(body));
  return body;
}

void ApiHandler::ReloadCrds() {
  std::vector<json> crds =
      store_.List("apiextensions.k8s.io/customresourcedefinitions", "", nullptr);
  registry_.SetCrds(crds);
}

Status ApiHandler::InstallCrds(const std::vector<json>& crds) {
  auto info = registry_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  for (const json& crd : crds) {
    std::string name = crd.value("/metadata/name"_json_pointer, "");
    if (name.empty()) return InvalidError("an embedded CRD has no metadata.name");
    HttpRequest req;
    req.method = "PUT";
    req.body = crd.dump();
    req.content_type = "application/json";
    Target t{*info, "", name, ""};
    HttpResponse r = store_.Get(info->key(), "", name) ? Update(req, t) : Create(req, t);
    if (r.status >= 300) {
      return InternalError("installing CRD " + name + ": " + r.body);
    }
  }
  ReloadCrds();
  return Status::Ok();
}

}  // namespace stash::api
