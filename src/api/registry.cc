#include "registry.h"

#include <algorithm>
#include <regex>

namespace stash::api {

namespace {

ResourceInfo Builtin(std::string group, std::string version, std::string resource, std::string kind,
                     std::vector<std::string> short_names, bool namespaced, bool status,
                     bool generation) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.resource = std::move(resource);
  r.kind = std::move(kind);
  r.singular = r.kind;
  std::transform(r.singular.begin(), r.singular.end(), r.singular.begin(), ::tolower);
  r.short_names = std::move(short_names);
  r.namespaced = namespaced;
  r.status_subresource = status;
  r.has_generation = generation;
  return r;
}

std::vector<std::string> Strings(const json& arr) {
  std::vector<std::string> out;
  if (arr.is_array()) {
    for (const auto& s : arr) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Registry::Registry(Empty) {}

Registry::Registry() {
  builtin_ = {
      Builtin("", "v1", "namespaces", "Namespace", {"ns"}, false, true, false),
      Builtin("", "v1", "secrets", "Secret", {}, true, false, false),
      Builtin("", "v1", "configmaps", "ConfigMap", {"cm"}, true, false, false),
      Builtin("", "v1", "events", "Event", {"ev"}, true, false, false),
      Builtin("", "v1", "services", "Service", {"svc"}, true, true, false),
      Builtin("", "v1", "endpoints", "Endpoints", {"ep"}, true, false, false),
      Builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", {"pvc"}, true, true,
              false),
      Builtin("", "v1", "persistentvolumes", "PersistentVolume", {"pv"}, false, true, false),
      Builtin("", "v1", "nodes", "Node", {"no"}, false, true, false),
      Builtin("", "v1", "pods", "Pod", {"po"}, true, true, true),
      Builtin("apps", "v1", "deployments", "Deployment", {"deploy"}, true, true, true),
      Builtin("apps", "v1", "statefulsets", "StatefulSet", {"sts"}, true, true, true),
      Builtin("apps", "v1", "replicasets", "ReplicaSet", {"rs"}, true, true, true),
      Builtin("apps", "v1", "daemonsets", "DaemonSet", {"ds"}, true, true, true),
      Builtin("apps", "v1", "controllerrevisions", "ControllerRevision", {}, true, false, false),
      Builtin("batch", "v1", "cronjobs", "CronJob", {"cj"}, true, true, true),
      Builtin("batch", "v1", "jobs", "Job", {}, true, true, true),
      Builtin("coordination.k8s.io", "v1", "leases", "Lease", {}, true, false, false),
      Builtin("storage.k8s.io", "v1", "storageclasses", "StorageClass", {"sc"}, false, false,
              false),
      Builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
              {"crd", "crds"}, false, true, true),
      Builtin("apiregistration.k8s.io", "v1", "apiservices", "APIService", {}, false, true, false),
      // Stored, never called: a create or update answers with a warning
      // saying so (writes.cc); Stash's own checks run in-process.
      Builtin("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
              "ValidatingWebhookConfiguration", {}, false, false, true),
      Builtin("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
              "MutatingWebhookConfiguration", {}, false, false, true),
  };
  for (ResourceInfo& r : AuthResources()) builtin_.push_back(std::move(r));
  for (auto& r : builtin_) {
    if (r.resource == "deployments" || r.resource == "statefulsets" ||
        r.resource == "replicasets") {
      // Built-in workloads: the selector comes from spec.selector.
      r.scale = {{"specReplicasPath", ".spec.replicas"},
                 {"statusReplicasPath", ".status.replicas"}};
    }
    if (r.resource == "pods" || r.resource == "deployments" || r.resource == "statefulsets" ||
        r.resource == "replicasets" || r.resource == "daemonsets" || r.resource == "cronjobs" ||
        r.resource == "jobs") {
      r.categories = {"all"};
    }
  }
}

void Registry::SetCrds(const std::vector<json>& crds) {
  std::vector<ResourceInfo> custom;
  for (const json& crd : crds) {
    const json& spec = crd.value("spec", json::object());
    const json& names = spec.value("names", json::object());
    for (const json& v : spec.value("versions", json::array())) {
      if (!v.value("served", true)) continue;
      ResourceInfo r;
      r.group = spec.value("group", "");
      r.version = v.value("name", "");
      r.resource = names.value("plural", "");
      r.kind = names.value("kind", "");
      r.singular = names.value("singular", "");
      if (r.singular.empty()) {
        r.singular = r.kind;
        std::transform(r.singular.begin(), r.singular.end(), r.singular.begin(), ::tolower);
      }
      r.short_names = Strings(names.value("shortNames", json::array()));
      r.categories = Strings(names.value("categories", json::array()));
      r.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
      r.status_subresource = v.contains("subresources") && v["subresources"].contains("status");
      if (v.contains("subresources") && v["subresources"].contains("scale") &&
          v["subresources"]["scale"].is_object()) {
        r.scale = v["subresources"]["scale"];
      }
      r.custom = true;
      r.has_generation = true;
      if (v.contains("schema")) r.schema = v["schema"].value("openAPIV3Schema", json());
      r.printer_columns = v.value("additionalPrinterColumns", json::array());
      for (const json& f : v.value("selectableFields", json::array())) {
        std::string path = f.is_object() ? f.value("jsonPath", "") : "";
        if (path.size() > 1 && path[0] == '.') r.selectable_fields.push_back(path.substr(1));
      }
      if (r.group.empty() || r.resource.empty() || r.kind.empty() || r.version.empty()) continue;
      custom.push_back(std::move(r));
    }
  }
  std::lock_guard lock(mu_);
  custom_ = std::move(custom);
}

void Registry::AddProvided(const ProvidedResource& pr, std::shared_ptr<ResourceProvider> provider) {
  ResourceInfo r;
  r.group = pr.group;
  r.version = pr.version;
  r.resource = pr.resource;
  r.kind = pr.kind;
  r.singular = pr.singular;
  r.short_names = pr.short_names;
  r.categories = pr.categories;
  r.namespaced = pr.namespaced;
  r.provider = std::move(provider);
  r.verbs = {"get", "list"};
  if (pr.deletable) r.verbs.insert(r.verbs.begin(), "delete");
  r.columns = pr.columns;
  r.schema = pr.schema;
  std::lock_guard lock(mu_);
  std::erase_if(provided_, [&](const ResourceInfo& o) {
    return o.group == r.group && o.version == r.version && o.resource == r.resource;
  });
  provided_.push_back(std::move(r));
}

std::optional<ResourceInfo> Registry::Find(const std::string& group, const std::string& version,
                                           const std::string& resource) const {
  std::lock_guard lock(mu_);
  for (const auto* list : {&builtin_, &custom_, &provided_}) {
    for (const ResourceInfo& r : *list) {
      if (r.group == group && r.version == version && r.resource == resource) return r;
    }
  }
  return std::nullopt;
}

std::vector<ResourceInfo> Registry::All() const {
  std::lock_guard lock(mu_);
  std::vector<ResourceInfo> out = builtin_;
  out.insert(out.end(), custom_.begin(), custom_.end());
  out.insert(out.end(), provided_.begin(), provided_.end());
  return out;
}

std::vector<ResourceInfo> Registry::ForGroupVersion(const std::string& group,
                                                    const std::string& version) const {
  std::vector<ResourceInfo> out;
  for (ResourceInfo& r : All()) {
    if (r.group == group && r.version == version) out.push_back(std::move(r));
  }
  return out;
}

std::vector<GroupVersions> Registry::Groups() const {
  std::vector<GroupVersions> out;
  for (const ResourceInfo& r : All()) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const GroupVersions& g) { return g.group == r.group; });
    if (it == out.end()) {
      out.push_back({r.group, {}});
      it = out.end() - 1;
    }
    if (std::find(it->versions.begin(), it->versions.end(), r.version) == it->versions.end()) {
      it->versions.push_back(r.version);
    }
  }
  for (auto& g : out) std::sort(g.versions.begin(), g.versions.end(), VersionBefore);
  return out;
}

namespace {

// a > b for decimal digit strings of any length (CRD versions come from
// clients: "v99999999999" must not overflow an int).
bool NumberGreater(std::string a, std::string b) {
  a.erase(0, std::min(a.find_first_not_of('0'), a.size()));
  b.erase(0, std::min(b.find_first_not_of('0'), b.size()));
  if (a.size() != b.size()) return a.size() > b.size();
  return a > b;
}

}  // namespace

bool VersionBefore(const std::string& a, const std::string& b) {
  static const std::regex kube(R"(v(\d+)(?:(alpha|beta)(\d+))?)");
  // A version name is short; a long one is no Kubernetes version (and
  // std::regex recurses per character).
  std::smatch ma, mb;
  bool ka = a.size() <= 64 && std::regex_match(a, ma, kube);
  bool kb = b.size() <= 64 && std::regex_match(b, mb, kube);
  if (ka != kb) return ka;
  if (!ka) return a < b;
  auto rank = [](const std::smatch& m) { return m[2] == "" ? 2 : m[2] == "beta" ? 1 : 0; };
  if (rank(ma) != rank(mb)) return rank(ma) > rank(mb);
  if (ma[1] != mb[1]) return NumberGreater(ma[1], mb[1]);
  if (ma[3] != "" && mb[3] != "") return NumberGreater(ma[3], mb[3]);
  return false;
}

}  // namespace stash::api
