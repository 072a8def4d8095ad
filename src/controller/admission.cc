// The Stash kinds' validating admission plugins (validation.h).
#include <spdlog/spdlog.h>

#include <map>
#include <optional>

#include "stash/api/selector.h"
#include "stash/apis/backup.h"
#include "stash/apis/codec.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
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

// A reviewed object as its typed struct, with the stored one of an UPDATE.
template <class T>
struct Reviewed {
  T object;
  std::optional<T> old;  // UPDATE only

  bool Terminating() const { return !object.metadata.deletion_timestamp.empty(); }
  // An update that leaves the spec alone (metadata, finalizers, status) is
  // not judged again: a controller must be able to finish with an object
  // that an older, laxer version let in.
  bool SpecUnchanged() const { return old && old->spec == object.spec; }
};

// The request's objects decoded; a malformed object is refused naming the
// field (the old one of an UPDATE, if it does not decode, counts as absent).
template <class T>
Result<Reviewed<T>> Decode(const api::AdmissionRequest& r) {
  Reviewed<T> out;
  STASH_ASSIGN_OR_RETURN(out.object, apis::FromJson<T>(r.object));
  if (r.operation == "UPDATE" && r.old_object.is_object()) {
    if (auto old = apis::FromJson<T>(r.old_object); old.ok()) out.old = std::move(*old);
  }
  return out;
}

class BackupConfigurationPlugin final : public api::AdmissionPlugin {
 public:
  std::string name() const override { return "backupconfiguration.admission.stash.appscode.com"; }
  bool Handles(const std::string& group, const std::string& resource) const override {
    return group == kGroup && resource == "backupconfigurations";
  }
  api::AdmissionVerdict Review(const api::AdmissionRequest& r) const override {
    auto rv = Decode<apis::BackupConfiguration>(r);
    if (!rv.ok()) return api::AdmissionVerdict::Deny(rv.status().message());
    if (rv->Terminating() || rv->SpecUnchanged()) return api::AdmissionVerdict::Allow();
    const apis::BackupConfigurationSpec& spec = rv->object.spec;
    if (rv->old && rv->old->status.phase == "Ready" && rv->old->spec.target != spec.target) {
      return api::AdmissionVerdict::Deny(
          "updating target is forbidden when BackupConfiguration is in READY state");
    }
    std::vector<std::string> problems = ValidateBackupConfigurationSpec(spec);
    if (spec.target && !spec.target->ref.namespace_.empty() &&
        spec.target->ref.namespace_ != r.ns) {
      problems.push_back("cross-namespace target reference is not allowed for \"" +
                         spec.target->ref.kind + "\"");
    }
    if (std::string why = UsagePolicyProblem(r, spec); !why.empty()) problems.push_back(why);
    return FromProblems(problems);
  }

 private:
  // Stash's usagePolicy check: may this namespace use that Repository?
  static std::string UsagePolicyProblem(const api::AdmissionRequest& r,
                                        const apis::BackupConfigurationSpec& spec) {
    const std::string& repo_name = spec.repository.name;
    const std::string repo_ns =
        spec.repository.namespace_.empty() ? r.ns : spec.repository.namespace_;
    if (!r.lookup || repo_name.empty() || repo_ns == r.ns) return "";
    auto found = r.lookup(kGroup, "repositories", repo_ns, repo_name);
    if (!found) return "";  // the controller reports a missing Repository
    auto repo = apis::FromJson<apis::Repository>(*found);
    std::optional<apis::AllowedNamespaces> allowed;
    if (repo.ok() && repo->spec.usage_policy) allowed = repo->spec.usage_policy->allowed_namespaces;
    const std::string from = allowed && !allowed->from.empty() ? allowed->from : "Same";
    bool ok = from == "All";
    if (from == "Selector") {
      auto ns = r.lookup("", "namespaces", "", r.ns);
      auto selector = api::LabelSelector::FromJson(
          allowed->selector ? apis::ToJson(*allowed->selector) : json());
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
    auto rv = Decode<apis::Repository>(r);
    if (!rv.ok()) return api::AdmissionVerdict::Deny(rv.status().message());
    if (rv->Terminating() || rv->SpecUnchanged()) return api::AdmissionVerdict::Allow();
    return FromProblems(ValidateRepositorySpec(rv->object.spec));
  }
};

class BackupSessionPlugin final : public api::AdmissionPlugin {
 public:
  std::string name() const override { return "backupsession.admission.stash.appscode.com"; }
  bool Handles(const std::string& group, const std::string& resource) const override {
    return group == kGroup && resource == "backupsessions";
  }
  api::AdmissionVerdict Review(const api::AdmissionRequest& r) const override {
    auto rv = Decode<apis::BackupSession>(r);
    if (!rv.ok()) return api::AdmissionVerdict::Deny(rv.status().message());
    if (rv->old && !rv->SpecUnchanged() && !rv->Terminating()) {
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
    auto rv = Decode<apis::RestoreSession>(r);
    if (!rv.ok()) return api::AdmissionVerdict::Deny(rv.status().message());
    if (rv->Terminating() || rv->SpecUnchanged()) return api::AdmissionVerdict::Allow();
    const apis::RestoreSessionSpec& spec = rv->object.spec;
    const std::vector<apis::Rule>& rules =
        spec.target && !spec.target->rules.empty() ? spec.target->rules : spec.rules;
    std::vector<size_t> empty_hosts;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].target_hosts.empty()) empty_hosts.push_back(i);
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
      for (const std::string& host : rules[i].target_hosts) {
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
      if (!rules[i].snapshots.empty() && !rules[i].paths.empty()) {
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
