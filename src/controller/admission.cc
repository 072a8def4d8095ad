// The Stash kinds' validating admission plugins (validation.h).
#include <spdlog/spdlog.h>

#include <map>

#include "stash/api/selector.h"
#include "stash/controller/validation.h"

namespace stash::controller {

namespace {

using json = nlohmann::json;
const char* kGroup = "stash.appscode.com";

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

api::AdmissionVerdict FromProblems(const std::vector<std::string>& problems) {
  return problems.empty() ? api::AdmissionVerdict::Allow()
                          : api::AdmissionVerdict::Deny(Join(problems));
}

bool Terminating(const json& obj) {
  return obj.is_object() && obj.contains("/metadata/deletionTimestamp"_json_pointer);
}

// An update that leaves the spec alone (metadata, finalizers, status) is not
// judged again: a controller must be able to finish with an object that an
// older, laxer version let in.
bool SpecUnchanged(const api::AdmissionRequest& r) {
  return r.operation == "UPDATE" && r.old_object.is_object() &&
         r.old_object.value("spec", json()) == r.object.value("spec", json());
}

class BackupConfigurationPlugin final : public api::AdmissionPlugin {
 public:
  std::string name() const override { return "backupconfiguration.admission.stash.appscode.com"; }
  bool Handles(const std::string& group, const std::string& resource) const override {
    return group == kGroup && resource == "backupconfigurations";
  }
  api::AdmissionVerdict Review(const api::AdmissionRequest& r) const override {
    if (Terminating(r.object) || SpecUnchanged(r)) return api::AdmissionVerdict::Allow();
    const json spec = r.object.value("spec", json::object());
    if (r.operation == "UPDATE" &&
        r.old_object.value("/status/phase"_json_pointer, "") == "Ready" &&
        r.old_object.value("/spec/target"_json_pointer, json()) != spec.value("target", json())) {
      return api::AdmissionVerdict::Deny(
          "updating target is forbidden when BackupConfiguration is in READY state");
    }
    std::vector<std::string> problems = ValidateBackupConfigurationSpec(spec);
    const std::string target_ns = spec.value("/target/ref/namespace"_json_pointer, "");
    if (!target_ns.empty() && target_ns != r.ns) {
      problems.push_back("cross-namespace target reference is not allowed for \"" +
                         spec.value("/target/ref/kind"_json_pointer, "") + "\"");
    }
    if (std::string why = UsagePolicyProblem(r, spec); !why.empty()) problems.push_back(why);
    return FromProblems(problems);
  }

 private:
  // Stash's usagePolicy check: may this namespace use that Repository?
  static std::string UsagePolicyProblem(const api::AdmissionRequest& r, const json& spec) {
    const std::string repo_name = spec.value("/repository/name"_json_pointer, "");
    std::string repo_ns = spec.value("/repository/namespace"_json_pointer, "");
    if (repo_ns.empty()) repo_ns = r.ns;
    if (!r.lookup || repo_name.empty() || repo_ns == r.ns) return "";
    auto repo = r.lookup(kGroup, "repositories", repo_ns, repo_name);
    if (!repo) return "";  // the controller reports a missing Repository
    const json allowed = repo->value("/spec/usagePolicy/allowedNamespaces"_json_pointer, json());
    const std::string from = allowed.is_object() ? allowed.value("from", "Same") : "Same";
    bool ok = from == "All";
    if (from == "Selector") {
      auto ns = r.lookup("", "namespaces", "", r.ns);
      auto selector = api::LabelSelector::FromJson(allowed.value("selector", json()));
      ok = ns && selector.ok() && selector->MatchesObject(*ns);
    }
    if (ok) return "";
    return "namespace \"" + r.ns + "\" is not allowed to refer Repository \"" + repo_name +
           "\" of \"" + repo_ns + "\" namespace. Please, check the `usagePolicy` of the Repository";
  }
};

class RepositoryPlugin final : public api::AdmissionPlugin {
 public:
  std::string name() const override { return "repository.admission.stash.appscode.com"; }
  bool Handles(const std::string& group, const std::string& resource) const override {
    return group == kGroup && resource == "repositories";
  }
  api::AdmissionVerdict Review(const api::AdmissionRequest& r) const override {
    if (Terminating(r.object) || SpecUnchanged(r)) return api::AdmissionVerdict::Allow();
    return FromProblems(ValidateRepositorySpec(r.object.value("spec", json::object())));
  }
};

class BackupSessionPlugin final : public api::AdmissionPlugin {
 public:
  std::string name() const override { return "backupsession.admission.stash.appscode.com"; }
  bool Handles(const std::string& group, const std::string& resource) const override {
    return group == kGroup && resource == "backupsessions";
  }
  api::AdmissionVerdict Review(const api::AdmissionRequest& r) const override {
    if (r.operation == "UPDATE" && !SpecUnchanged(r) && !Terminating(r.object)) {
      return api::AdmissionVerdict::Deny("BackupSession spec is immutable");
    }
    return api::AdmissionVerdict::Allow();
  }
};

class RestoreSessionPlugin final : public api::AdmissionPlugin {
 public:
  std::string name() const override { return "restoresession.admission.stash.appscode.com"; }
  bool Handles(const std::string& group, const std::string& resource) const override {
    return group == kGroup && resource == "restoresessions";
  }
  // Stash's RestoreSession rules (apis/stash/v1beta1/validator.go).
  api::AdmissionVerdict Review(const api::AdmissionRequest& r) const override {
    if (Terminating(r.object) || SpecUnchanged(r)) return api::AdmissionVerdict::Allow();
    json rules = r.object.value("/spec/target/rules"_json_pointer, json());
    if (!rules.is_array()) rules = r.object.value("/spec/rules"_json_pointer, json::array());
    std::vector<size_t> empty_hosts;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].value("targetHosts", json::array()).empty()) empty_hosts.push_back(i);
    }
    const std::string prefix = "\n\tError: Invalid RestoreSession specification.\n\tReason: ";
    if (empty_hosts.size() > 1) {
      std::string ids;
      for (size_t i = 0; i < empty_hosts.size(); ++i) {
        ids += (i ? ", " : "") + ("rule[" + std::to_string(empty_hosts[i]) + "]");
      }
      return api::AdmissionVerdict::Deny(
          prefix + std::to_string(empty_hosts.size()) +
          " rules found with empty targetHosts (Rules: " + ids +
          ").\n\tHints: There can be at most one rule with empty targetHosts");
    }
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < rules.size(); ++i) {
      for (const json& h : rules[i].value("targetHosts", json::array())) {
        std::string host = h.is_string() ? h.get<std::string>() : h.dump();
        auto [it, fresh] = seen.emplace(host, i);
        if (!fresh) {
          return api::AdmissionVerdict::Deny(
              prefix + "Multiple rules (rule[" + std::to_string(it->second) + "] and rule[" +
              std::to_string(i) + "]) match for host \"" + host +
              "\".\n\tHints: There could be only one matching rule for a host");
        }
      }
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!rules[i].value("snapshots", json::array()).empty() &&
          !rules[i].value("paths", json::array()).empty()) {
        return api::AdmissionVerdict::Deny(
            prefix + "Both 'snapshots' and 'paths' fileds are specified in rule[" +
            std::to_string(i) +
            "].\n\tHints: A snpashot contains backup data of only one directory. So, you can't "
            "specify 'paths' if you specify snapshot field");
      }
    }
    return api::AdmissionVerdict::Allow();
  }
};

}  // namespace

std::vector<api::WebhookServer::Route> StashAdmissionRoutes() {
  const std::string base = "/apis/admission.stash.appscode.com/";
  return {
      {base + "v1beta1/backupconfigurationvalidators",
       std::make_shared<BackupConfigurationPlugin>()},
      {base + "v1alpha1/repositoryvalidators", std::make_shared<RepositoryPlugin>()},
      {base + "v1beta1/backupsessionvalidators", std::make_shared<BackupSessionPlugin>()},
      {base + "v1beta1/restoresessionvalidators", std::make_shared<RestoreSessionPlugin>()},
  };
}

api::AdmissionPlugins StashAdmissionPlugins() {
  api::AdmissionPlugins out;
  for (auto& [path, plugin] : StashAdmissionRoutes()) out.push_back(plugin);
  return out;
}

}  // namespace stash::controller
