// RBAC's escalation prevention, as kube-apiserver's rbac storage does it: a
// Role or ClusterRole may only be written by someone who holds every
// permission in it (or has `escalate` on it), and a binding only by someone
// who holds the role's permissions (or has `bind` on it). system:masters is
// exempt.
#include "auth.h"
#include "decode.h"
#include "errors.h"
#include "stash/api/patch.h"

namespace stash::api {

using json = nlohmann::json;

HttpResponse ForbiddenResponse(const UserInfo& user, const Attributes& a,
                               const std::string& reason);  // auth.cc

namespace {

bool Has(const std::vector<std::string>& list, const std::string& v) {
  for (const std::string& s : list) {
    if (s == "*" || s == v) return true;
  }
  return false;
}

bool ResourceCovered(const std::vector<std::string>& owner, const std::string& res) {
  for (const std::string& o : owner) {
    if (o == "*" || o == res) return true;
    size_t slash = res.find('/');
    if (slash == std::string::npos) continue;
    // "*/status" covers "pods/status", "pods/*" covers "pods/status".
    if (o == "*" + res.substr(slash) || o == res.substr(0, slash) + "/*") return true;
  }
  return false;
}

bool UrlCovered(const std::vector<std::string>& owner, const std::string& url) {
  for (const std::string& o : owner) {
    if (o == "*" || o == url) return true;
    if (!o.empty() && o.back() == '*' && url.compare(0, o.size() - 1, o, 0, o.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

// One permission of a role broken down as kube's BreakdownRule does.
struct Atom {
  std::string verb, group, resource, name, url;
};

std::vector<Atom> Breakdown(const CompiledRule& r) {
  std::vector<Atom> out;
  for (const std::string& v : r.verbs) {
    for (const std::string& g : r.api_groups) {
      for (const std::string& res : r.resources) {
        if (r.resource_names.empty()) out.push_back({v, g, res, "", ""});
        for (const std::string& n : r.resource_names) out.push_back({v, g, res, n, ""});
      }
    }
    for (const std::string& u : r.non_resource_urls) out.push_back({v, "", "", "", u});
  }
  return out;
}

bool Covered(const std::vector<CompiledRule>& owner, const Atom& a) {
  for (const CompiledRule& o : owner) {
    if (!Has(o.verbs, a.verb)) continue;
    if (!a.url.empty()) {
      if (UrlCovered(o.non_resource_urls, a.url)) return true;
      continue;
    }
    if (!Has(o.api_groups, a.group) || !ResourceCovered(o.resources, a.resource)) continue;
    if (o.resource_names.empty() || (!a.name.empty() && Has(o.resource_names, a.name))) {
      return true;
    }
  }
  return false;
}

std::string Quoted(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + ("\"" + v[i] + "\"");
  return s + "]";
}

std::string Compact(const Atom& a) {
  if (!a.url.empty()) return "{NonResourceURLs:[\"" + a.url + "\"], Verbs:[\"" + a.verb + "\"]}";
  std::string s = "{APIGroups:[\"" + a.group + "\"], Resources:[\"" + a.resource + "\"]";
  if (!a.name.empty()) s += ", ResourceNames:[\"" + a.name + "\"]";
  return s + ", Verbs:[\"" + a.verb + "\"]}";
}

Result<json> Decode(const HttpRequest& req) { return DecodeObjectBody(req.content_type, req.body); }

}  // namespace

std::optional<HttpResponse> Auth::PreventEscalation(const HttpRequest& req,
                                                    const Outcome& who) const {
  const Attributes& a = who.attributes;
  if (!a.resource_request || a.api_group != "rbac.authorization.k8s.io" || !a.subresource.empty() ||
      who.user.InGroup(kSystemMasters)) {
    return std::nullopt;
  }
  const bool role = a.resource == "roles" || a.resource == "clusterroles";
  const bool binding = a.resource == "rolebindings" || a.resource == "clusterrolebindings";
  if ((!role && !binding) || (a.verb != "create" && a.verb != "update" && a.verb != "patch")) {
    return std::nullopt;
  }
  // The object as it would be stored (a patch applied to the current one).
  json obj;
  if (a.verb == "patch") {
    auto current = store_.Get("rbac.authorization.k8s.io/" + a.resource, a.ns, a.name);
    if (!current) return std::nullopt;  // the handler answers 404
    std::string ct = req.content_type.substr(0, req.content_type.find(';'));
    if (ct == "application/apply-patch+yaml") {
      auto applied = Decode(req);
      if (!applied.ok()) return std::nullopt;
      auto merged = ApplyMergePatch(*current, *applied);
      if (!merged.ok()) return std::nullopt;
      obj = std::move(*merged);
    } else {
      auto patch = ParsePatchBody(req.body, ct);
      if (!patch.ok()) return std::nullopt;
      auto r = ct == "application/json-patch+json" ? ApplyJsonPatch(*current, *patch)
                                                   : ApplyMergePatch(*current, *patch);
      if (!r.ok()) return std::nullopt;
      obj = std::move(*r);
    }
  } else {
    auto body = Decode(req);
    if (!body.ok() || !body->is_object()) return std::nullopt;  // the handler answers 400
    obj = std::move(*body);
  }
  const std::string name =
      a.name.empty() ? obj.value("metadata", json::object()).value("name", "") : a.name;
  std::vector<CompiledRule> wanted;
  Attributes override_attrs;
  override_attrs.resource_request = true;
  override_attrs.api_group = a.api_group;
  override_attrs.ns = a.ns;
  if (role) {
    override_attrs.verb = "escalate";
    override_attrs.resource = a.resource;
    override_attrs.name = name;
    if (rbac_.Authorize(who.user, override_attrs).allowed) return std::nullopt;
    wanted = CompileRules(obj.value("rules", json()));
  } else {
    const json ref = obj.value("roleRef", json::object());
    const bool cluster_role = ref.value("kind", "") == "ClusterRole";
    const std::string role_name = ref.value("name", "");
    override_attrs.verb = "bind";
    override_attrs.resource = cluster_role ? "clusterroles" : "roles";
    override_attrs.name = role_name;
    if (rbac_.Authorize(who.user, override_attrs).allowed) return std::nullopt;
    auto stored = store_.Get(
        std::string("rbac.authorization.k8s.io/") + (cluster_role ? "clusterroles" : "roles"),
        cluster_role ? "" : a.ns, role_name);
    if (!stored) {
      return StatusResponse(404, "NotFound",
                            std::string(cluster_role ? "clusterroles" : "roles") +
                                ".rbac.authorization.k8s.io \"" + role_name + "\" not found",
                            {{"name", role_name},
                             {"group", "rbac.authorization.k8s.io"},
                             {"kind", cluster_role ? "clusterroles" : "roles"}});
    }
    wanted = CompileRules(stored->value("rules", json()));
  }
  std::vector<CompiledRule> held = rbac_.RulesFor(who.user, a.ns, nullptr);
  std::string missing;
  for (const CompiledRule& r : wanted) {
    for (const Atom& atom : Breakdown(r)) {
      if (!Covered(held, atom)) missing += "\n" + Compact(atom);
    }
  }
  if (missing.empty()) return std::nullopt;
  std::string msg = "user \"" + who.user.name + "\" (groups=" + Quoted(who.user.groups) +
                    ") is attempting to grant RBAC permissions not currently held:" + missing;
  std::string qualified = a.resource + ".rbac.authorization.k8s.io";
  return StatusResponse(403, "Forbidden", qualified + " \"" + name + "\" is forbidden: " + msg,
                        {{"name", name}, {"group", a.api_group}, {"kind", a.resource}});
}

}  // namespace stash::api
