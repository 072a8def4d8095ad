#include "stash/agent/repository.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "stash/backend/cache.h"
#include "stash/backend/factory.h"

namespace stash::agent {

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

// "<kind>:<bucket>:/<prefix>", restic's form for gs, azure, b2 and swift.
std::string BucketUrl(std::string_view kind, const std::string& bucket, const std::string& prefix) {
  return std::string(kind) + ":" + bucket + ":/" + TrimSlashes(prefix);
}

Result<std::string> LocalDir(const apis::LocalSpec& local, const std::string& ns,
                             const std::string& data_dir, const std::string& id) {
  if (data_dir.empty()) return JoinPath(local.mount_path, local.sub_path);
  if (local.source.host_path) return JoinPath(local.source.host_path->path, local.sub_path);
  if (local.source.persistent_volume_claim) {
    return JoinPath(VolumeDir(data_dir, ns, local.source.persistent_volume_claim->claim_name),
                    local.sub_path);
  }
  return UnsupportedError(id +
                          ": backend.local volume type is not supported by the embedded node; "
                          "use hostPath or persistentVolumeClaim");
}

}  // namespace

std::string VolumeDir(const std::string& data_dir, const std::string& ns,
                      const std::string& claim) {
  return data_dir + "/volumes/" + ns + "/" + claim;
}

Result<RepoTarget> ResolveRepository(const apis::Repository& repository, const apis::Secret& secret,
                                     const std::string& data_dir) {
  const std::string& ns = repository.metadata.namespace_;
  const std::string id = "Repository " + ns + "/" + repository.metadata.name;
  RepoTarget t;
  for (const auto& [k, v] : secret.data) {
    if (IsEnvName(k)) t.env[k] = v;
  }
  for (const auto& [k, v] : secret.string_data) {
    if (IsEnvName(k)) t.env[k] = v;
  }
  if (!t.env.count("RESTIC_PASSWORD")) {
    return FailedPreconditionError("storage Secret " + ns + "/" + secret.metadata.name + " of " +
                                   id + " has no RESTIC_PASSWORD key");
  }
  const apis::Backend& b = repository.spec.backend;
  if (b.local) {
    STASH_ASSIGN_OR_RETURN(t.local_dir, LocalDir(*b.local, ns, data_dir, id));
    if (t.local_dir.empty()) return InvalidError(id + ": backend.local has no path");
    t.url = t.local_dir;
    return t;
  }
  if (b.s3) {
    t.url =
        "s3:" + (b.s3->endpoint.empty() ? "s3.amazonaws.com" : b.s3->endpoint) + "/" + b.s3->bucket;
    if (!TrimSlashes(b.s3->prefix).empty()) t.url += "/" + TrimSlashes(b.s3->prefix);
    if (!b.s3->region.empty()) t.env.insert_or_assign("AWS_DEFAULT_REGION", b.s3->region);
  } else if (b.gcs) {
    t.url = BucketUrl("gs", b.gcs->bucket, b.gcs->prefix);
  } else if (b.azure) {
    t.url = BucketUrl("azure", b.azure->container, b.azure->prefix);
  } else if (b.b2) {
    t.url = BucketUrl("b2", b.b2->bucket, b.b2->prefix);
  } else if (b.swift) {
    t.url = BucketUrl("swift", b.swift->container, b.swift->prefix);
  } else if (b.rest) {
    t.url = "rest:" + b.rest->url;
  } else {
    return InvalidError(id +
                        " has no backend (spec.backend.local, s3, gcs, azure, b2, swift or rest)");
  }
  return t;
}

Result<std::unique_ptr<repo::Repository>> OpenRepository(const RepoTarget& target,
                                                         const EnvMap& env, Clock& clock,
                                                         Random& random, repo::Options opts,
                                                         bool init, const std::string& cache_dir,
                                                         const std::atomic<bool>* cancel) {
  backend::Env all(env.begin(), env.end());
  for (const auto& [k, v] : target.env) all.insert_or_assign(k, v);
  auto password = all.find("RESTIC_PASSWORD");
  if (password == all.end()) {
    return FailedPreconditionError("repository " + target.url + ": no RESTIC_PASSWORD");
  }
  if (init && !target.local_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(target.local_dir, ec);
    if (ec) return ErrnoError(ec.value(), "creating repository directory " + target.local_dir);
  }
  STASH_ASSIGN_OR_RETURN(backend::BackendSpec spec, backend::ParseRepository(target.url, all));
  spec.cancel = cancel;
  STASH_ASSIGN_OR_RETURN(backend::BackendPtr be, backend::OpenBackend(spec, clock, random));
  opts.clock = &clock;
  opts.random = &random;
  backend::CacheBackend* cache = nullptr;
  if (!cache_dir.empty()) {
    auto c = std::make_unique<backend::CacheBackend>(std::move(be));
    cache = c.get();
    be = std::move(c);
    opts.on_index_loaded = [cache](const std::unordered_set<std::string>& tree_packs) {
      cache->KeepOnlyPacks(tree_packs);
    };
  }
  auto r = init ? repo::Repository::Init(std::move(be), password->second, opts)
                : repo::Repository::Open(std::move(be), password->second, opts);
  if (r.ok() && cache) {
    // As restic: a cache that cannot be used is said and skipped.
    if (auto a = cache->Attach(cache_dir, (*r)->repository_id(), clock.Now()); !a.ok()) {
      spdlog::warn("unable to open cache {}: {}", cache_dir, a.status().message());
    }
  }
  return r;
}

}  // namespace stash::agent
