#include "stash/agent/snapshot_api.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "stash/agent/repository.h"
#include "stash/api/table.h"
#include "stash/apis/client.h"
#include "stash/apis/snapshot.h"
#include "stash/engine/forget.h"
#include "stash/engine/lock.h"
#include "stash/engine/prune.h"
#include "stash/format/snapshot.h"
#include "stash/repo/repository.h"

namespace stash::agent {

namespace {

using kube::json;

constexpr size_t kShortIdLength = 8;  // Stash's SnapshotIDLength

// A label value as Kubernetes accepts one (63 characters of [A-Za-z0-9-_.],
// alphanumeric at both ends); other host names are left out of the labels.
bool ValidLabelValue(const std::string& v) {
  if (v.empty()) return true;
  if (v.size() > 63 || !isalnum(uint8_t(v.front())) || !isalnum(uint8_t(v.back()))) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return isalnum(uint8_t(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string CreationTime(const format::Timestamp& t) {
  format::Timestamp utc{t.unix_sec, 0, 0};
  return format::FormatRfc3339Nano(utc);
}

json SnapshotObject(const apis::Repository& repository, const Id& id, const format::Snapshot& sn) {
  const std::string& repo_name = repository.metadata.name;
  apis::Snapshot s;
  s.api_version = apis::Snapshot::Resource().ApiVersion();
  s.kind = apis::Snapshot::Resource().kind;
  s.metadata.name = repo_name + "-" + id.Hex().substr(0, kShortIdLength);
  s.metadata.namespace_ = repository.metadata.namespace_;
  s.metadata.uid = id.Hex();
  s.metadata.creation_timestamp = CreationTime(sn.time);
  s.metadata.labels = repository.metadata.labels;
  s.metadata.labels.insert_or_assign("repository", repo_name);
  if (ValidLabelValue(sn.hostname)) s.metadata.labels.insert_or_assign("hostname", sn.hostname);
  s.status.tree = sn.tree.Hex();
  s.status.paths = sn.paths;
  s.status.hostname = sn.hostname;
  s.status.username = sn.username;
  s.status.uid = sn.uid;
  s.status.gid = sn.gid;
  s.status.tags = sn.tags;
  s.status.repository = repo_name;
  return apis::ToJson(s);
}

// The values a selector allows for `key` ("repository=a", "repository in
// (a,b)"); nullopt when it does not restrict the key to a set.
std::optional<std::vector<std::string>> AllowedValues(const api::LabelSelector& sel,
                                                      const std::string& key) {
  std::optional<std::vector<std::string>> out;
  for (const auto& r : sel.requirements()) {
    if (r.key != key) continue;
    if (r.op != api::LabelSelector::Op::kEquals && r.op != api::LabelSelector::Op::kIn) continue;
    if (!out) {
      out = r.values;
    } else {
      std::vector<std::string> both;
      for (const std::string& v : *out) {
        if (std::find(r.values.begin(), r.values.end(), v) != r.values.end()) both.push_back(v);
      }
      out = std::move(both);
    }
  }
  return out;
}

}  // namespace

ObjectSource ObjectSource::FromClient(const kube::Client& client) {
  ObjectSource s;
  s.repository = [&client](const std::string& ns, const std::string& name) {
    return apis::Get<apis::Repository>(client, ns, name);
  };
  s.repositories = [&client](const std::string& ns) {
    return apis::List<apis::Repository>(client, ns);
  };
  s.secret = [&client](const std::string& ns, const std::string& name) {
    return apis::Get<apis::Secret>(client, ns, name);
  };
  return s;
}

// One Repository object's restic repository, open, with the snapshots read
// so far (snapshot files never change, so each is decoded once).
struct SnapshotApi::OpenRepo {
  std::mutex mu;                           // serialises requests on this repository
  std::string fingerprint;                 // what it was opened with: URL and Secret
  std::unique_ptr<repo::Repository> repo;  // null: nothing initialised there yet
  std::map<Id, format::Snapshot> snapshots;

  // Lists the store's snapshots and loads the ones not seen yet.
  Status Refresh(const std::string& what);
};

struct SnapshotApi::Located {
  apis::Repository repository;
  std::shared_ptr<OpenRepo> open;
  Id id;
};

Status SnapshotApi::OpenRepo::Refresh(const std::string& what) {
  if (!repo) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(std::vector<Id> ids, repo->ListIds(backend::FileType::kSnapshot));
  std::sort(ids.begin(), ids.end());
  for (auto it = snapshots.begin(); it != snapshots.end();) {
    it =
        std::binary_search(ids.begin(), ids.end(), it->first) ? std::next(it) : snapshots.erase(it);
  }
  std::vector<Id> fresh;
  for (const Id& id : ids) {
    if (!snapshots.count(id)) fresh.push_back(id);
  }
  // Each load is a round trip on a remote store: a few at a time.
  std::vector<std::optional<format::Snapshot>> loaded(fresh.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < fresh.size();) {
      auto text = repo->LoadUnpacked(backend::FileType::kSnapshot, fresh[i]);
      auto sn = text.ok() ? format::DecodeSnapshot(*text) : Result<format::Snapshot>(text.status());
      if (!sn.ok()) {
        spdlog::warn("snapshots of {}: could not load snapshot {}: {}", what, fresh[i].ShortHex(),
                     sn.status().message());
        continue;
      }
      loaded[i] = std::move(*sn);
    }
  };
  std::vector<std::thread> threads;
  size_t n = std::min<size_t>(fresh.size(), std::max(1, repo->backend().Connections()) * 2);
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (loaded[i]) snapshots.emplace(fresh[i], std::move(*loaded[i]));
  }
  return Status::Ok();
}

SnapshotApi::SnapshotApi(ObjectSource source, Clock& clock, Random& random, SnapshotApiOptions opts)
    : source_(std::move(source)), clock_(clock), random_(random), opts_(std::move(opts)) {}

SnapshotApi::~SnapshotApi() = default;

api::ProvidedResource SnapshotApi::Definition() {
  api::ProvidedResource r;
  r.group = "repositories.stash.appscode.com";
  r.version = "v1alpha1";
  r.resource = "snapshots";
  r.kind = "Snapshot";
  r.singular = "snapshot";
  r.categories = {"storage", "appscode"};
  r.namespaced = true;
  r.deletable = true;
  auto column = [](std::string name, std::string type, std::string format, std::string desc,
                   std::string path) {
    api::PrinterColumn c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.format = std::move(format);
    c.description = std::move(desc);
    c.json_path = std::move(path);
    return c;
  };
  r.columns = {
      column("Name", "string", "name", "Name of the Snapshot", ".metadata.name"),
      column("ID", "string", "", "ID of the snapshot in the restic repository", ".metadata.uid"),
      column("Repository", "string", "", "Name of the repository where the Snapshot was backed up",
             ".status.repository"),
      column("Hostname", "string", "", "Name of the host whose data was backed up",
             ".status.hostname"),
      column("Created At", "date", "", "Timestamp when the snapshot was created", "")};
  // As Stash's table: the time itself (RFC 3339, UTC), not an age.
  r.columns.back().cell = [](const json& obj, SystemTime) -> json {
    return api::EvalSimpleJsonPath(obj, ".metadata.creationTimestamp").value_or("");
  };
  // Stash's Snapshot type (apis/repositories/v1alpha1), for `kubectl explain`.
  r.schema = json::parse(R"({"type":"object",
    "description":"Snapshot is a snapshot of a restic repository, read from the repository itself (not stored in the API server). metadata.uid is the snapshot's full ID, metadata.creationTimestamp its time; deleting one forgets it and prunes per the Repository's retention policy.",
    "properties":{
      "apiVersion":{"type":"string","description":"APIVersion defines the versioned schema of this representation of an object."},
      "kind":{"type":"string","description":"Kind is a string value representing the REST resource this object represents."},
      "metadata":{"type":"object","description":"Standard object's metadata: name <repository>-<short id>, labels repository and hostname."},
      "status":{"type":"object","description":"SnapshotStatus: what restic records for the snapshot.",
        "properties":{
          "gid":{"type":"integer","format":"int64","description":"Group ID of the user who took the snapshot."},
          "hostname":{"type":"string","description":"Host name of the backed up machine (host-<ordinal> for StatefulSet replicas)."},
          "paths":{"type":"array","items":{"type":"string"},"description":"Paths that were backed up."},
          "repository":{"type":"string","description":"Name of the Repository the snapshot belongs to."},
          "tags":{"type":"array","items":{"type":"string"},"description":"Tags of the snapshot."},
          "tree":{"type":"string","description":"ID of the snapshot's root tree."},
          "uid":{"type":"integer","format":"int64","description":"User ID of the user who took the snapshot."},
          "username":{"type":"string","description":"Name of the user who took the snapshot."}},
        "required":["gid","hostname","paths","repository","tree","uid","username"]}}})");
  return r;
}

Result<std::shared_ptr<SnapshotApi::OpenRepo>> SnapshotApi::Open(
    const apis::Repository& repository) {
  const std::string& ns = repository.metadata.namespace_;
  const std::string& name = repository.metadata.name;
  const std::string what = "Repository " + ns + "/" + name;
  const std::string& secret_name = repository.spec.backend.storage_secret_name;
  if (secret_name.empty()) {
    return InvalidError(what +
                        " has no spec.backend.storageSecretName (the Secret holding "
                        "RESTIC_PASSWORD)");
  }
  auto secret = source_.secret(ns, secret_name);
  if (!secret.ok()) {
    if (secret.status().code() != Code::kNotFound) return secret.status();
    return NotFoundError("storage Secret " + ns + "/" + secret_name + " of " + what + " not found");
  }
  STASH_ASSIGN_OR_RETURN(RepoTarget target, ResolveRepository(repository, *secret, opts_.data_dir));
  std::string fingerprint = target.url + '\n';
  for (const auto& [k, v] : target.env) fingerprint += k + '=' + v + '\n';

  std::shared_ptr<OpenRepo> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = repos_[ns + "/" + name];
    if (!slot) slot = std::make_shared<OpenRepo>();
    open = slot;
  }
  std::unique_lock<std::mutex> lock(open->mu);
  if (open->fingerprint != fingerprint || !open->repo) {
    open->repo.reset();
    open->snapshots.clear();
    open->fingerprint = fingerprint;
    auto opened = OpenRepository(target, opts_.env, clock_, random_);
    if (!opened.ok()) {
      // No restic repository there yet: no snapshots (opened again next time).
      if (opened.status().code() != Code::kNotFound) {
        return Status(opened.status().code(), "opening the restic repository of " + what + ": " +
                                                  opened.status().message());
      }
    } else {
      open->repo = std::move(*opened);
    }
  }
  STASH_RETURN_IF_ERROR_CTX(open->Refresh(what), "listing the snapshots of " + what);
  lock.release();  // the caller holds it from here on
  return open;
}

Result<SnapshotApi::Located> SnapshotApi::Locate(const std::string& ns, const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) {
    return InvalidError("invalid snapshot name \"" + name +
                        "\": expected <repository name>-<snapshot id>");
  }
  const std::string repo_name = name.substr(0, dash), prefix = name.substr(dash + 1);
  auto repository = source_.repository(ns, repo_name);
  if (!repository.ok()) {
    if (repository.status().code() != Code::kNotFound) return repository.status();
    return NotFoundError("repositories.stash.appscode.com \"" + repo_name + "\" not found");
  }
  STASH_ASSIGN_OR_RETURN(std::shared_ptr<OpenRepo> open, Open(*repository));
  std::unique_lock<std::mutex> lock(open->mu, std::adopt_lock);
  std::vector<Id> matches;
  for (const auto& [id, sn] : open->snapshots) {
    if (id.Hex().compare(0, prefix.size(), prefix) == 0) matches.push_back(id);
  }
  if (matches.size() != 1) {
    if (matches.size() > 1) {
      return InvalidError("snapshot name \"" + name +
                          "\" is ambiguous: " + std::to_string(matches.size()) +
                          " snapshots of repository " + repo_name + " start with " + prefix);
    }
    return NotFoundError("snapshots.repositories.stash.appscode.com \"" + name + "\" not found");
  }
  lock.release();
  return Located{std::move(*repository), std::move(open), matches[0]};
}

Result<json> SnapshotApi::Get(const std::string& ns, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(Located at, Locate(ns, name));
  std::lock_guard<std::mutex> lock(at.open->mu, std::adopt_lock);
  return SnapshotObject(at.repository, at.id, at.open->snapshots.at(at.id));
}

Result<std::vector<json>> SnapshotApi::List(const std::string& ns,
                                            const api::LabelSelector& labels) {
  STASH_ASSIGN_OR_RETURN(std::vector<apis::Repository> repositories, source_.repositories(ns));
  // Only the repositories the selector can match are opened.
  auto wanted = AllowedValues(labels, "repository");
  std::vector<json> out;
  for (const apis::Repository& repository : repositories) {
    const std::string& name = repository.metadata.name;
    if (wanted && std::find(wanted->begin(), wanted->end(), name) == wanted->end()) {
      continue;
    }
    STASH_ASSIGN_OR_RETURN(std::shared_ptr<OpenRepo> open, Open(repository));
    std::lock_guard<std::mutex> lock(open->mu, std::adopt_lock);
    std::vector<std::pair<const Id*, const format::Snapshot*>> sorted;
    for (const auto& [id, sn] : open->snapshots) sorted.emplace_back(&id, &sn);
    // Oldest first, as `restic snapshots`.
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return format::Before(a.second->time, b.second->time);
    });
    for (const auto& [id, sn] : sorted) out.push_back(SnapshotObject(repository, *id, *sn));
  }
  return out;
}

Result<json> SnapshotApi::Delete(const std::string& ns, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(Located at, Locate(ns, name));
  std::lock_guard<std::mutex> lock(at.open->mu, std::adopt_lock);
  repo::Repository& repo = *at.open->repo;
  json gone = SnapshotObject(at.repository, at.id, at.open->snapshots.at(at.id));
  const std::string what =
      "snapshot " + at.id.ShortHex() + " of Repository " + ns + "/" + at.repository.metadata.name;
  // As `restic forget --prune <id>`: exclusive lock, remove, prune.
  auto held = engine::ScopedLock::Acquire(repo, engine::LockMode::kExclusive, clock_);
  if (!held.ok()) {
    return Status(held.status().code(),
                  "forgetting " + what + ": the repository is locked: " + held.status().message());
  }
  STASH_RETURN_IF_ERROR_CTX(engine::RemoveSnapshots(repo, {at.id}), "forgetting " + what);
  at.open->snapshots.erase(at.id);
  STASH_RETURN_IF_ERROR_CTX(repo.LoadIndex(), "pruning after forgetting " + what);
  auto log = [](int, const std::string&) {};
  auto plan = engine::PlanPrune(repo, engine::PruneOptions{}, {}, log);
  if (!plan.ok()) {
    return Status(plan.status().code(),
                  "forgot " + what + " but could not prune: " + plan.status().message());
  }
  const uint64_t reclaimed = plan->stats.ReclaimedBytes();
  if (Status s = engine::ExecutePrune(repo, std::move(*plan), log); !s.ok()) {
    return Status(s.code(), "forgot " + what + " but could not prune: " + s.message());
  }
  spdlog::info("forgot {}; prune reclaimed {} bytes", what, reclaimed);
  return gone;
}

}  // namespace stash::agent
