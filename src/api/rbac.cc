#include "rbac.h"

#include <mutex>

namespace stash::api {

using json = nlohmann::json;

namespace {

bool Has(const std::vector<std::string>& list, std::string_view value) {
  for (const std::string& s : list) {
    if (s == "*" || s == value) return true;
  }
  return false;
}

std::vector<std::string> Strings(const json& arr) {
  std::vector<std::string> out;
  if (!arr.is_array()) return out;
  for (const json& s : arr) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

bool ResourceMatches(const CompiledRule& r, const Attributes& a) {
  for (const std::string& res : r.resources) {
    if (res == "*") return true;
    if (a.subresource.empty()) {
      if (res == a.resource) return true;
      continue;
    }
    // "pods/status" exactly, or "*/status".
    if (res.size() == a.resource.size() + 1 + a.subresource.size() &&
        res.compare(0, a.resource.size(), a.resource) == 0 && res[a.resource.size()] == '/' &&
        res.compare(a.resource.size() + 1, std::string::npos, a.subresource) == 0) {
      return true;
    }
    if (res.size() == a.subresource.size() + 2 && res.compare(0, 2, "*/") == 0 &&
        res.compare(2, std::string::npos, a.subresource) == 0) {
      return true;
    }
  }
  return false;
}

bool NonResourceMatches(const CompiledRule& r, const std::string& path) {
  for (const std::string& u : r.non_resource_urls) {
    if (u == "*" || u == path) return true;
    if (!u.empty() && u.back() == '*' && path.compare(0, u.size() - 1, u, 0, u.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

}  // namespace

bool CompiledRule::Matches(const Attributes& a) const {
  if (!Has(verbs, a.verb)) return false;
  if (!a.resource_request) return NonResourceMatches(*this, a.path);
  if (!Has(api_groups, a.api_group) || !ResourceMatches(*this, a)) return false;
  if (resource_names.empty()) return true;
  if (a.name.empty()) return false;
  for (const std::string& n : resource_names) {
    if (n == a.name) return true;
  }
  return false;
}

std::vector<CompiledRule> CompileRules(const json& rules) {
  std::vector<CompiledRule> out;
  if (!rules.is_array()) return out;
  for (const json& r : rules) {
    if (!r.is_object()) continue;
    CompiledRule c;
    c.verbs = Strings(r.value("verbs", json()));
    c.api_groups = Strings(r.value("apiGroups", json()));
    c.resources = Strings(r.value("resources", json()));
    c.resource_names = Strings(r.value("resourceNames", json()));
    c.non_resource_urls = Strings(r.value("nonResourceURLs", json()));
    out.push_back(std::move(c));
  }
  return out;
}

json RuleToJson(const CompiledRule& r) {
  json j = {{"verbs", r.verbs}};
  if (!r.api_groups.empty()) j["apiGroups"] = r.api_groups;
  if (!r.resources.empty()) j["resources"] = r.resources;
  if (!r.resource_names.empty()) j["resourceNames"] = r.resource_names;
  if (!r.non_resource_urls.empty()) j["nonResourceURLs"] = r.non_resource_urls;
  return j;
}

void RbacAuthorizer::RemoveBinding(const std::string& key) {
  auto it = binding_subjects_.find(key);
  if (it == binding_subjects_.end()) return;
  for (const std::string& subject : it->second) {
    auto s = by_subject_.find(subject);
    if (s == by_subject_.end()) continue;
    std::erase_if(s->second, [&](const std::shared_ptr<const Binding>& b) {
      return Key(b->ns, b->name) == key;
    });
    if (s->second.empty()) by_subject_.erase(s);
  }
  binding_subjects_.erase(it);
}

void RbacAuthorizer::Apply(const std::string& resource, const std::string& ns, const json& object,
                           bool deleted) {
  const json meta = object.value("metadata", json::object());
  const std::string name = meta.value("name", "");
  const bool role = resource == kRoles || resource == kClusterRoles;
  const bool binding = resource == kRoleBindings || resource == kClusterRoleBindings;
  if (resource == kServiceAccounts) {
    std::unique_lock lock(mu_);
    if (deleted) {
      sa_uids_.erase(Key(ns, name));
    } else {
      sa_uids_[Key(ns, name)] = meta.value("uid", "");
    }
    return;
  }
  if (!role && !binding) return;
  if (role) {
    auto compiled = std::make_shared<Role>();
    if (!deleted) compiled->rules = CompileRules(object.value("rules", json()));
    std::unique_lock lock(mu_);
    if (deleted) {
      roles_.erase(Key(ns, name));
    } else {
      roles_[Key(ns, name)] = std::move(compiled);
    }
    return;
  }
  // A binding: one index entry per subject.
  std::vector<std::pair<std::string, std::shared_ptr<const Binding>>> entries;
  if (!deleted) {
    const json ref = object.value("roleRef", json::object());
    for (const json& s : object.value("subjects", json::array())) {
      if (!s.is_object()) continue;
      const std::string kind = s.value("kind", ""), sname = s.value("name", "");
      std::string subject, desc;
      if (kind == "User") {
        subject = "u:" + sname;
        desc = "User \"" + sname + "\"";
      } else if (kind == "Group") {
        subject = "g:" + sname;
        desc = "Group \"" + sname + "\"";
      } else if (kind == "ServiceAccount") {
        std::string sns = s.value("namespace", "");
        if (sns.empty()) sns = ns;  // a RoleBinding's own namespace
        if (sns.empty()) continue;  // a ClusterRoleBinding must say it
        subject = "u:" + ServiceAccountUsername(sns, sname);
        desc = "ServiceAccount \"" + sname + "/" + sns + "\"";
      } else {
        continue;
      }
      auto b = std::make_shared<Binding>();
      b->ns = ns;
      b->name = name;
      b->cluster_role = ref.value("kind", "") == "ClusterRole";
      b->role = ref.value("name", "");
      b->subject_desc = std::move(desc);
      entries.emplace_back(std::move(subject), std::move(b));
    }
  }
  std::unique_lock lock(mu_);
  const std::string key = Key(ns, name);
  RemoveBinding(key);
  if (deleted) return;
  std::vector<std::string>& subjects = binding_subjects_[key];
  for (auto& [subject, b] : entries) {
    by_subject_[subject].push_back(std::move(b));
    subjects.push_back(subject);
  }
}

template <typename Fn>
void RbacAuthorizer::Visit(const UserInfo& user, const std::string& ns, Fn&& fn) const {
  auto visit_subject = [&](const std::string& subject) {
    auto it = by_subject_.find(subject);
    if (it == by_subject_.end()) return false;
    for (const auto& b : it->second) {
      if (!b->ns.empty() && b->ns != ns) continue;
      auto r = roles_.find(Key(b->cluster_role ? "" : b->ns, b->role));
      if (fn(*b, r == roles_.end() ? nullptr : r->second.get())) return true;
    }
    return false;
  };
  if (visit_subject("u:" + user.name)) return;
  for (const std::string& g : user.groups) {
    if (visit_subject("g:" + g)) return;
  }
}

namespace {

std::string Describe(const std::string& ns, const std::string& name, bool cluster_role,
                     const std::string& role, const std::string& subject) {
  std::string kind = cluster_role ? "ClusterRole" : "Role";
  if (ns.empty()) {
    return "ClusterRoleBinding \"" + name + "\" of " + kind + " \"" + role + "\" to " + subject;
  }
  return "RoleBinding \"" + name + "/" + ns + "\" of " + kind + " \"" + role + "\" to " + subject;
}

std::string MissingRole(bool cluster_role, const std::string& name) {
  return std::string(cluster_role ? "clusterrole" : "role") + ".rbac.authorization.k8s.io \"" +
         name + "\" not found";
}

}  // namespace

Decision RbacAuthorizer::Authorize(const UserInfo& user, const Attributes& attrs) const {
  Decision d;
  if (user.InGroup(kSystemMasters)) {
    d.allowed = true;
    return d;
  }
  std::vector<std::string> errors;
  std::shared_lock lock(mu_);
  Visit(user, attrs.resource_request ? attrs.ns : std::string(),
        [&](const Binding& b, const Role* role) {
          if (!role) {
            errors.push_back(MissingRole(b.cluster_role, b.role));
            return false;
          }
          for (const CompiledRule& r : role->rules) {
            if (r.Matches(attrs)) {
              d.allowed = true;
              d.reason = "RBAC: allowed by " +
                         Describe(b.ns, b.name, b.cluster_role, b.role, b.subject_desc);
              return true;
            }
          }
          return false;
        });
  if (!d.allowed && !errors.empty()) {
    d.reason = "RBAC: ";
    if (errors.size() > 1) d.reason += "[";
    for (size_t i = 0; i < errors.size(); ++i) d.reason += (i ? ", " : "") + errors[i];
    if (errors.size() > 1) d.reason += "]";
  }
  return d;
}

std::vector<CompiledRule> RbacAuthorizer::RulesFor(const UserInfo& user, const std::string& ns,
                                                   std::string* errors) const {
  std::vector<CompiledRule> out;
  std::shared_lock lock(mu_);
  Visit(user, ns, [&](const Binding& b, const Role* role) {
    if (!role) {
      if (errors) *errors += (errors->empty() ? "" : ", ") + MissingRole(b.cluster_role, b.role);
      return false;
    }
    out.insert(out.end(), role->rules.begin(), role->rules.end());
    return false;
  });
  return out;
}

std::optional<std::string> RbacAuthorizer::ServiceAccountUid(const std::string& ns,
                                                             const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = sa_uids_.find(Key(ns, name));
  if (it == sa_uids_.end()) return std::nullopt;
  return it->second;
}

}  // namespace stash::api
