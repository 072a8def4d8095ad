#include "stash/agent/repository.h"

#include <algorithm>
#include <cstdlib>

#include "stash/backend/factory.h"
#include "stash/core/base64.h"

namespace stash::agent {

using nlohmann::json;

namespace {

std::string JoinPath(std::string a, const std::string& b) {
  if (b.empty()) return a;
  while (!a.empty() && a.back() == '/') a.pop_back();
  return a + (b[0] == '/' ? "" : "/") + b;
}

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool IsEnvName(const std::string& k) {
  if (k.empty() || isdigit(uint8_t(k[0]))) return false;
  return std::all_of(k.begin(), k.end(), [](char c) { return isalnum(uint8_t(c)) || c == '_'; });
}

}  // namespace

std::string VolumeDir(const std::string& data_dir, const std::string& ns,
                      const std::string& claim) {
  return data_dir + "/volumes/" + ns + "/" + claim;
}

Result<RepoTarget> ResolveRepository(const json& repository, const json& secret,
                                     const std::string& data_dir) {
  std::string ns = repository.value("/metadata/namespace"_json_pointer, "");
  std::string id = "Repository " + ns + "/" + repository.value("/metadata/name"_json_pointer, "");
  RepoTarget t;
  const json data = secret.value("data", json::object());
  const json string_data = secret.value("stringData", json::object());
  for (const auto& [k, v] : data.items()) {
    if (!IsEnvName(k) || !v.is_string()) continue;
    auto value = Base64Decode(v.get<std::string>());
    if (!value.ok())
      return Status(value.status()).Prepend("storage Secret of " + id + ", key " + k);
    t.env[k] = std::move(*value);
  }
  for (const auto& [k, v] : string_data.items()) {
    if (IsEnvName(k) && v.is_string()) t.env[k] = v.get<std::string>();
  }
  if (!t.env.count("RESTIC_PASSWORD")) {
    return FailedPreconditionError("storage Secret " + ns + "/" +
                                   secret.value("/metadata/name"_json_pointer, "") + " of " + id +
                                   " has no RESTIC_PASSWORD key");
  }
  const json backend = repository.value("/spec/backend"_json_pointer, json::object());
  if (backend.contains("local")) {
    const json& local = backend["local"];
    std::string sub = local.value("subPath", "");
    if (data_dir.empty()) {
      t.local_dir = JoinPath(local.value("mountPath", ""), sub);
    } else if (local.contains("hostPath")) {
      t.local_dir = JoinPath(local["hostPath"].value("path", ""), sub);
    } else if (local.contains("persistentVolumeClaim")) {
      t.local_dir = JoinPath(
          VolumeDir(data_dir, ns, local["persistentVolumeClaim"].value("claimName", "")), sub);
    } else {
      return UnsupportedError(id +
                              ": backend.local volume type is not supported by the embedded "
                              "node; use hostPath or persistentVolumeClaim");
    }
    if (t.local_dir.empty()) return InvalidError(id + ": backend.local has no path");
    t.url = t.local_dir;
    return t;
  }
  auto prefix = [](const json& b) { return TrimSlashes(b.value("prefix", "")); };
  if (backend.contains("s3")) {
    const json& b = backend["s3"];
    std::string endpoint = b.value("endpoint", "s3.amazonaws.com");
    t.url = "s3:" + endpoint + "/" + b.value("bucket", "");
    if (!prefix(b).empty()) t.url += "/" + prefix(b);
    if (b.contains("region")) t.env["AWS_DEFAULT_REGION"] = b.value("region", "");
  } else if (backend.contains("gcs")) {
    t.url = "gs:" + backend["gcs"].value("bucket", "") + ":/" + prefix(backend["gcs"]);
  } else if (backend.contains("azure")) {
    t.url = "azure:" + backend["azure"].value("container", "") + ":/" + prefix(backend["azure"]);
  } else if (backend.contains("b2")) {
    t.url = "b2:" + backend["b2"].value("bucket", "") + ":/" + prefix(backend["b2"]);
  } else if (backend.contains("swift")) {
    t.url = "swift:" + backend["swift"].value("container", "") + ":/" + prefix(backend["swift"]);
  } else if (backend.contains("rest")) {
    t.url = "rest:" + backend["rest"].value("url", "");
  } else {
    return InvalidError(id +
                        " has no backend (spec.backend.local, s3, gcs, azure, b2, swift or rest)");
  }
  return t;
}

Result<std::unique_ptr<repo::Repository>> OpenRepository(const RepoTarget& target,
                                                         const EnvMap& env, Clock& clock,
                                                         Random& random) {
  backend::Env all(env.begin(), env.end());
  for (const auto& [k, v] : target.env) all[k] = v;
  STASH_ASSIGN_OR_RETURN(backend::BackendPtr be,
                         backend::OpenBackend(target.url, all, clock, random));
  repo::Options opts;
  opts.clock = &clock;
  opts.random = &random;
  return repo::Repository::Open(std::move(be), all["RESTIC_PASSWORD"], opts);
}

}  // namespace stash::agent
