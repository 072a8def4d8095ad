// Discovery (aggregated v2/v2beta1 and legacy) and the OpenAPI v3 documents.
#include <algorithm>

#include "errors.h"
#include "handler.h"

namespace stash::api {

namespace {

const json kVerbs = {"create", "delete", "deletecollection", "get",
                     "list",   "patch",  "update",           "watch"};

// The discovery version the client asked for in Accept ("v2", "v2beta1"), or
// "" for the legacy documents.
std::string AggregatedVersion(const std::string& accept) {
  size_t pos = 0;
  while (pos < accept.size()) {
    size_t end = accept.find(',', pos);
    if (end == std::string::npos) end = accept.size();
    std::string item = accept.substr(pos, end - pos);
    pos = end + 1;
    if (item.find("g=apidiscovery.k8s.io") == std::string::npos) continue;
    if (item.find("as=APIGroupDiscoveryList") == std::string::npos) continue;
    if (item.find("v=v2beta1") != std::string::npos) return "v2beta1";
    if (item.find("v=v2") != std::string::npos) return "v2";
  }
  return "";
}

json Verbs(const ResourceInfo& r) { return r.verbs.empty() ? kVerbs : json(r.verbs); }

json ResourceEntry(const ResourceInfo& r) {
  json kind = {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
  json e = {{"resource", r.resource},
            {"responseKind", kind},
            {"scope", r.namespaced ? "Namespaced" : "Cluster"},
            {"singularResource", r.singular},
            {"verbs", Verbs(r)}};
  if (!r.short_names.empty()) e["shortNames"] = r.short_names;
  if (!r.categories.empty()) e["categories"] = r.categories;
  if (r.key() == "/serviceaccounts") {
    e["subresources"] = json::array(
        {{{"subresource", "token"},
          {"responseKind",
           {{"group", "authentication.k8s.io"}, {"version", "v1"}, {"kind", "TokenRequest"}}},
          {"verbs", {"create"}}}});
  }
  if (r.status_subresource) {
    e["subresources"] = json::array({{{"subresource", "status"},
                                      {"responseKind", kind},
                                      {"verbs", {"get", "patch", "update"}}}});
  }
  if (r.scale.is_object()) {
    if (!e.contains("subresources")) e["subresources"] = json::array();
    e["subresources"].push_back(
        {{"subresource", "scale"},
         {"responseKind", {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
         {"verbs", {"get", "patch", "update"}}});
  }
  return e;
}

json LegacyResource(const ResourceInfo& r) {
  json e = {{"name", r.resource},
            {"singularName", r.singular},
            {"namespaced", r.namespaced},
            {"kind", r.kind},
            {"verbs", Verbs(r)}};
  if (!r.short_names.empty()) e["shortNames"] = r.short_names;
  if (!r.categories.empty()) e["categories"] = r.categories;
  return e;
}

// "com.appscode.stash.v1beta1.BackupConfiguration": the reversed group, as
// the apiserver names CRD schemas.
std::string SchemaName(const ResourceInfo& r) {
  std::string rev;
  std::string g = r.group.empty() ? "io.k8s.api.core" : r.group;
  if (!r.group.empty()) {
    size_t end = g.size();
    while (true) {
      size_t dot = g.rfind('.', end - 1);
      std::string part = g.substr(dot == std::string::npos ? 0 : dot + 1,
                                  end - (dot == std::string::npos ? 0 : dot + 1));
      if (!rev.empty()) rev += ".";
      rev += part;
      if (dot == std::string::npos || dot == 0) break;
      end = dot;
    }
  } else {
    rev = g;
  }
  return rev + "." + r.version + "." + r.kind;
}

// An aggregated discovery item (apidiscovery.k8s.io) of a group served
// through an APIService, from its backends' APIResourceLists.
json AggregatedItem(const AggregatedGroup& a) {
  json versions = json::array();
  for (const std::string& v : a.versions) {
    auto it = a.resources.find(v);
    const json list = it == a.resources.end() ? json() : it->second;
    json resources = json::array();
    for (const json& r : list.is_object() ? list.value("resources", json::array()) : json()) {
      const std::string name = r.value("name", "");
      json kind = {{"group", r.value("group", a.group)},
                   {"version", r.value("version", v)},
                   {"kind", r.value("kind", "")}};
      json verbs = r.value("verbs", json::array());
      if (size_t slash = name.find('/'); slash != std::string::npos) {
        for (json& parent : resources) {
          if (parent["resource"] != name.substr(0, slash)) continue;
          parent["subresources"].push_back(
              {{"subresource", name.substr(slash + 1)}, {"responseKind", kind}, {"verbs", verbs}});
        }
        continue;
      }
      json e = {{"resource", name},
                {"responseKind", kind},
                {"scope", r.value("namespaced", false) ? "Namespaced" : "Cluster"},
                {"singularResource", r.value("singularName", "")},
                {"verbs", verbs},
                {"subresources", json::array()}};
      for (const char* key : {"shortNames", "categories"}) {
        if (r.contains(key)) e[key] = r[key];
      }
      resources.push_back(std::move(e));
    }
    versions.push_back({{"version", v},
                        {"resources", resources},
                        {"freshness", list.is_object() ? "Current" : "Stale"}});
  }
  return {{"metadata", {{"name", a.group}}}, {"versions", versions}};
}

}  // namespace

HttpResponse ApisDiscovery(const Registry& registry, const HttpRequest& req, bool core,
                           const std::vector<AggregatedGroup>& aggregated) {
  std::vector<GroupVersions> groups = registry.Groups();
  // A group served through an APIService replaces one served here.
  std::erase_if(groups, [&](const GroupVersions& g) {
    return std::any_of(aggregated.begin(), aggregated.end(),
                       [&](const AggregatedGroup& a) { return a.group == g.group; });
  });
  std::string agg = AggregatedVersion(req.accept);
  if (!agg.empty()) {
    json items = json::array();
    if (!core) {
      for (const AggregatedGroup& a : aggregated) items.push_back(AggregatedItem(a));
    }
    for (const GroupVersions& g : groups) {
      if (core != g.group.empty()) continue;
      json versions = json::array();
      for (const std::string& v : g.versions) {
        json resources = json::array();
        for (const ResourceInfo& r : registry.ForGroupVersion(g.group, v)) {
          resources.push_back(ResourceEntry(r));
        }
        versions.push_back({{"version", v}, {"resources", resources}, {"freshness", "Current"}});
      }
      items.push_back({{"metadata", {{"name", g.group}}}, {"versions", versions}});
    }
    HttpResponse r = JsonResponse(200, {{"kind", "APIGroupDiscoveryList"},
                                        {"apiVersion", "apidiscovery.k8s.io/" + agg},
                                        {"metadata", json::object()},
                                        {"items", items}});
    r.content_type =
        "application/json;g=apidiscovery.k8s.io;v=" + agg + ";as=APIGroupDiscoveryList";
    r.headers.push_back({"Vary", "Accept"});
    return r;
  }
  if (core) {
    return JsonResponse(200, {{"kind", "APIVersions"},
                              {"versions", {"v1"}},
                              {"serverAddressByClientCIDRs",
                               {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1"}}}}});
  }
  json list = json::array();
  for (const AggregatedGroup& a : aggregated) list.push_back(ApiGroupJson(a.group, a.versions));
  for (const GroupVersions& g : groups) {
    if (!g.group.empty()) list.push_back(ApiGroupJson(g.group, g.versions));
  }
  return JsonResponse(200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}});
}

json ApiGroupJson(const std::string& group, const std::vector<std::string>& versions) {
  json list = json::array();
  for (const std::string& v : versions) {
    list.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  }
  return {{"name", group}, {"versions", list}, {"preferredVersion", list[0]}};
}

HttpResponse GroupDiscovery(const Registry& registry, const std::string& group) {
  for (const GroupVersions& g : registry.Groups()) {
    if (g.group != group || group.empty()) continue;
    json out = ApiGroupJson(g.group, g.versions);
    out["kind"] = "APIGroup";
    out["apiVersion"] = "v1";
    return JsonResponse(200, out);
  }
  return PathNotFoundResponse();
}

HttpResponse GroupVersionDiscovery(const Registry& registry, const std::string& group,
                                   const std::string& version) {
  std::vector<ResourceInfo> rs = registry.ForGroupVersion(group, version);
  if (rs.empty()) return PathNotFoundResponse();
  json resources = json::array();
  for (const ResourceInfo& r : rs) {
    resources.push_back(LegacyResource(r));
    if (r.status_subresource) {
      resources.push_back({{"name", r.resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", r.namespaced},
                           {"kind", r.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (r.scale.is_object()) {
      resources.push_back({{"name", r.resource + "/scale"},
                           {"singularName", ""},
                           {"namespaced", r.namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  return JsonResponse(200, {{"kind", "APIResourceList"},
                            {"apiVersion", "v1"},
                            {"groupVersion", group.empty() ? version : group + "/" + version},
                            {"resources", resources}});
}

HttpResponse ApiHandler::OpenApiRoot() {
  json paths = OpenApiRootPaths(registry_);
  if (Aggregator* aggregator = aggregator_.load()) {
    // As kube-aggregator: the aggregated group/versions' documents come
    // from their backends (replacing an in-process group of the same name).
    for (const AggregatedGroup& g : aggregator->Groups(false)) {
      for (const std::string& v : g.versions) {
        const std::string key = "apis/" + g.group + "/" + v;
        paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key}};
      }
    }
  }
  return JsonResponse(200, {{"paths", paths}});
}

json OpenApiRootPaths(const Registry& registry) {
  json paths = json::object();
  for (const GroupVersions& g : registry.Groups()) {
    for (const std::string& v : g.versions) {
      std::string key = g.group.empty() ? "api/" + v : "apis/" + g.group + "/" + v;
      paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key}};
    }
  }
  return paths;
}

HttpResponse OpenApiGroupVersion(const Registry& registry, const std::string& group,
                                 const std::string& version) {
  std::vector<ResourceInfo> rs = registry.ForGroupVersion(group, version);
  if (rs.empty()) return PathNotFoundResponse();
  json paths = json::object();
  json schemas = json::object();
  const std::string prefix = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  for (const ResourceInfo& r : rs) {
    json gvk = {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
    json patch_types = {{"application/json-patch+json", json::object()},
                        {"application/merge-patch+json", json::object()},
                        {"application/apply-patch+yaml", json::object()}};
    // Strategic merge patch is accepted for built-in kinds but not listed:
    // kubectl would then compute it from these documents' (absent) schemas
    // instead of its compiled-in types.
    json params = json::array(
        {{{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}}});
    json item_ops = {
        {"get", {{"x-kubernetes-action", "get"}, {"x-kubernetes-group-version-kind", gvk}}},
        {"put",
         {{"x-kubernetes-action", "put"},
          {"x-kubernetes-group-version-kind", gvk},
          {"parameters", params}}},
        {"patch",
         {{"x-kubernetes-action", "patch"},
          {"x-kubernetes-group-version-kind", gvk},
          {"parameters", params},
          {"requestBody", {{"content", patch_types}}}}},
        {"delete", {{"x-kubernetes-action", "delete"}, {"x-kubernetes-group-version-kind", gvk}}}};
    std::string base =
        r.namespaced ? prefix + "/namespaces/{namespace}/" + r.resource : prefix + "/" + r.resource;
    if ((r.custom || r.provider) && r.schema.is_object()) {
      json s = r.schema;
      s["x-kubernetes-group-version-kind"] = json::array({gvk});
      schemas[SchemaName(r)] = s;
    }
    if (r.provider) {  // get, list and delete only
      item_ops.erase("put");
      item_ops.erase("patch");
      paths[base + "/{name}"] = item_ops;
      paths[base] = {
          {"get", {{"x-kubernetes-action", "list"}, {"x-kubernetes-group-version-kind", gvk}}}};
      continue;
    }
    paths[base + "/{name}"] = item_ops;
    paths[base] = {
        {"get", {{"x-kubernetes-action", "list"}, {"x-kubernetes-group-version-kind", gvk}}},
        {"post",
         {{"x-kubernetes-action", "post"},
          {"x-kubernetes-group-version-kind", gvk},
          {"parameters", params}}}};
  }
  json doc = {{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.4"}}},
              {"paths", paths}};
  if (!schemas.empty()) doc["components"] = {{"schemas", schemas}};
  return JsonResponse(200, doc);
}

}  // namespace stash::api
