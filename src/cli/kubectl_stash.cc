#include "kubectl_stash.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "restic_options.h"
#include "stash/agent/repository.h"
#include "stash/apis/backup.h"
#include "stash/apis/client.h"
#include "stash/apis/core.h"
#include "stash/apis/repository.h"
#include "stash/apis/restore.h"
#include "stash/cli/app.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/engine/check.h"
#include "stash/engine/lock.h"
#include "stash/kube/config.h"

namespace stash::cli {

namespace {

using json = nlohmann::json;

// kubectl's global flags, as the plugin receives them (kubectl passes every
// argument after "stash" through unparsed).
struct Globals {
  std::string ns;
  std::string kubeconfig;
  std::string context;
};

// A connection to the cluster and the namespace commands act in.
struct Cluster {
  std::unique_ptr<kube::Client> client;
  std::string ns;
};

Result<Cluster> Connect(const Globals& g) {
  Result<kube::KubeConfig> cfg = NotFoundError("");
  if (g.context.empty()) {
    cfg = kube::ResolveConfig(g.kubeconfig);
  } else {
    // --context picks a context of a kubeconfig file (never the in-cluster one).
    std::string path = g.kubeconfig;
    if (path.empty()) {
      const char* env = std::getenv("KUBECONFIG");
      path = env ? std::string(env).substr(0, std::string(env).find(':')) : "";
    }
    if (path.empty()) {
      const char* home = std::getenv("HOME");
      path = std::string(home ? home : "") + "/.kube/config";
    }
    cfg = kube::LoadKubeconfig(path, g.context);
  }
  if (!cfg.ok()) return cfg.status();
  Cluster c;
  c.ns = g.ns.empty() ? cfg->namespace_ : g.ns;
  if (c.ns.empty()) c.ns = "default";
  c.client = std::make_unique<kube::Client>(*cfg);
  return c;
}

// cobra's way of failing a command.
int Fail(const Status& s) {
  std::cerr << "Error: " << s.message() << "\n";
  return kExitError;
}
int Fail(const std::string& message) {
  std::cerr << "Error: " << message << "\n";
  return kExitError;
}

// --- trigger, pause, resume -------------------------------------------------

int Trigger(const Globals& g, const std::string& name) {
  if (name.empty()) return Fail("BackupConfiguration name not found");
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  auto bc = apis::Get<apis::BackupConfiguration>(*c->client, c->ns, name);
  if (!bc.ok()) return Fail(bc.status());
  apis::BackupSession bs;
  bs.api_version = "stash.appscode.com/v1beta1";
  bs.kind = "BackupSession";
  bs.metadata.generate_name = name + "-";
  bs.metadata.namespace_ = c->ns;
  bs.metadata.labels = {{"app.kubernetes.io/name", "stash"},
                        {"stash.appscode.com/invoker-type", "BackupConfiguration"},
                        {"stash.appscode.com/invoker-name", name}};
  bs.metadata.owner_references.push_back(apis::ControllerReference(*bc));
  bs.spec.invoker.api_group = "stash.appscode.com";
  bs.spec.invoker.kind = "BackupConfiguration";
  bs.spec.invoker.name = name;
  auto created = apis::Create(*c->client, bs);
  if (!created.ok()) return Fail(created.status());
  std::cout << "BackupSession " << c->ns << "/" << created->metadata.name
            << " has been created successfully\n";
  return kExitOk;
}

int SetPaused(const Globals& g, const std::string& bc, const std::string& batch, bool paused) {
  if (bc.empty() && batch.empty()) {
    return Fail("neither BackupConfiguration nor BackupBatch name has been provided");
  }
  if (bc.empty()) {
    return Fail("BackupBatch " + batch +
                ": BackupBatch is not served by this Stash (use --backupconfig)");
  }
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  apis::ObjectMeta meta;
  meta.namespace_ = c->ns;
  meta.name = bc;
  auto patched = apis::MergePatch<apis::BackupConfiguration>(*c->client, meta,
                                                             json{{"spec", {{"paused", paused}}}});
  if (!patched.ok()) return Fail(patched.status());
  std::cout << "BackupConfiguration " << c->ns << "/" << bc << " has been "
            << (paused ? "paused" : "resumed") << " successfully.\n";
  return kExitOk;
}

// --- unlock, check ----------------------------------------------------------

// The open restic repository of a Stash Repository, as the engine sees it
// from this machine.
struct OpenedStashRepo {
  RealClock clock;
  SystemRandom random;
  std::unique_ptr<repo::Repository> repo;
};

Result<std::unique_ptr<OpenedStashRepo>> OpenStashRepository(const Cluster& c,
                                                             const std::string& name) {
  STASH_ASSIGN_OR_RETURN(apis::Repository repository,
                         apis::Get<apis::Repository>(*c.client, c.ns, name));
  const std::string& secret_name = repository.spec.backend.storage_secret_name;
  if (secret_name.empty()) {
    return FailedPreconditionError("Repository " + c.ns + "/" + name +
                                   " has no spec.backend.storageSecretName");
  }
  STASH_ASSIGN_OR_RETURN(apis::Secret secret,
                         apis::Get<apis::Secret>(*c.client, c.ns, secret_name));
  // A local backend is a volume of the node: its hostPath is a directory here;
  // a claim needs the embedded node's data directory (STASH_DATA_DIR).
  std::string data_dir;
  if (const char* d = std::getenv(agent::kDataDirEnv)) data_dir = d;
  const auto& local = repository.spec.backend.local;
  if (local && data_dir.empty()) {
    if (!local->source.host_path) {
      return FailedPreconditionError(
          "Repository " + c.ns + "/" + name + " is on a volume this machine cannot reach; set " +
          agent::kDataDirEnv + " to the embedded node's data directory (stash-data/node)");
    }
    data_dir = "/";  // hostPath: the path itself, no node directory needed
  }
  STASH_ASSIGN_OR_RETURN(agent::RepoTarget target,
                         agent::ResolveRepository(repository, secret, data_dir));
  auto out = std::make_unique<OpenedStashRepo>();
  STASH_ASSIGN_OR_RETURN(
      out->repo, agent::OpenRepository(target, ProcessEnvironment(), out->clock, out->random));
  return out;
}

int Unlock(const Globals& g, const std::string& name) {
  if (name.empty()) return Fail("Repository name not found");
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  auto r = OpenStashRepository(*c, name);
  if (!r.ok()) return Fail(r.status());
  // As Stash's `restic unlock`: stale locks only; --remove-all is not a flag
  // of kubectl-stash.
  auto removed = engine::RemoveLocks(*(*r)->repo, false, (*r)->clock.Now(), "");
  if (!removed.ok()) return Fail(removed.status());
  std::cout << "successfully removed " << *removed << " locks\n";
  std::cout << "Repository " << c->ns << "/" << name << " has been unlocked successfully\n";
  return kExitOk;
}

int Check(const Globals& g, const std::string& name, const engine::CheckOptions& opts) {
  if (name.empty()) return Fail("Repository name not found");
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  auto r = OpenStashRepository(*c, name);
  if (!r.ok()) return Fail(r.status());
  engine::CheckOutput out;
  out.info = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
  out.error = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };
  engine::Checker checker(*(*r)->repo, opts, std::move(out), (*r)->random);
  auto errors = checker.Run();
  if (!errors.ok()) return Fail(errors.status());
  if (*errors) return Fail("Repository " + c->ns + "/" + name + " contains errors");
  std::cout << "no errors were found\n";
  return kExitOk;
}

// --- cp ---------------------------------------------------------------------

// Creates `obj` in `to`, or replaces its content there when it exists
// (Stash's CreateOrPatch): labels, annotations and everything but metadata.
Status CopyObject(const kube::Client& client, const kube::Resource& r, const std::string& from,
                  const std::string& to, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(json obj, client.Get(r, from, name));
  json copy = obj;
  copy.erase("status");
  json meta = {{"name", name}, {"namespace", to}};
  for (const char* keep : {"labels", "annotations"}) {
    if (obj["metadata"].contains(keep)) meta[keep] = obj["metadata"][keep];
  }
  copy["metadata"] = meta;
  auto existing = client.Get(r, to, name);
  if (existing.ok()) {
    copy["metadata"]["resourceVersion"] = (*existing)["metadata"]["resourceVersion"];
    return client.Update(r, to, copy).status();
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  return client.Create(r, to, copy).status();
}

Status CopySecret(const Cluster& c, const std::string& to, const std::string& name) {
  STASH_RETURN_IF_ERROR(CopyObject(*c.client, kube::res::kSecrets, c.ns, to, name));
  std::cout << "Secret " << c.ns << "/" << name << " has been copied to " << to
            << " namespace successfully.\n";
  return Status::Ok();
}

Status CopyRepository(const Cluster& c, const std::string& to, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(auto repo, apis::Get<apis::Repository>(*c.client, c.ns, name));
  if (!repo.spec.backend.storage_secret_name.empty()) {
    STASH_RETURN_IF_ERROR(CopySecret(c, to, repo.spec.backend.storage_secret_name));
  }
  STASH_RETURN_IF_ERROR(CopyObject(*c.client, kube::res::kRepositories, c.ns, to, name));
  std::cout << "Repository " << c.ns << "/" << name << " has been copied to " << to
            << " namespace successfully.\n";
  return Status::Ok();
}

Status CopyBackupConfig(const Cluster& c, const std::string& to, const std::string& name) {
  STASH_ASSIGN_OR_RETURN(auto bc, apis::Get<apis::BackupConfiguration>(*c.client, c.ns, name));
  if (bc.spec.driver != "VolumeSnapshotter" && !bc.spec.repository.name.empty()) {
    STASH_RETURN_IF_ERROR(CopyRepository(c, to, bc.spec.repository.name));
  }
  STASH_RETURN_IF_ERROR(CopyObject(*c.client, kube::res::kBackupConfigurations, c.ns, to, name));
  std::cout << "BackupConfiguration " << c.ns << "/" << name << " has been copied to " << to
            << " namespace successfully.\n";
  return Status::Ok();
}

int Copy(const Globals& g, const std::string& kind, const std::string& name,
         const std::string& to) {
  if (name.empty()) return Fail(kind + " name is not provided");
  if (to.empty()) return Fail("--to-namespace is required");
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  Status s = kind == "secret"       ? CopySecret(*c, to, name)
             : kind == "repository" ? CopyRepository(*c, to, name)
                                    : CopyBackupConfig(*c, to, name);
  return s.ok() ? kExitOk : Fail(s);
}

// --- create -----------------------------------------------------------------

struct RepoFlags {
  std::string provider, bucket, endpoint, secret, prefix;
  int64_t max_connections = 0;
};

Result<apis::Backend> BackendFrom(const RepoFlags& f) {
  json b = {{"storageSecretName", f.secret}};
  const std::string p = f.provider;
  auto with_conns = [&](json spec) {
    if (f.max_connections > 0) spec["maxConnections"] = f.max_connections;
    return spec;
  };
  if (p == "gcs") {
    b["gcs"] = with_conns({{"bucket", f.bucket}, {"prefix", f.prefix}});
  } else if (p == "azure") {
    b["azure"] = with_conns({{"container", f.bucket}, {"prefix", f.prefix}});
  } else if (p == "s3") {
    b["s3"] = {{"endpoint", f.endpoint}, {"bucket", f.bucket}, {"prefix", f.prefix}};
  } else if (p == "b2") {
    b["b2"] = with_conns({{"bucket", f.bucket}, {"prefix", f.prefix}});
  } else if (p == "swift") {
    b["swift"] = {{"container", f.bucket}, {"prefix", f.prefix}};
  } else if (p == "rest") {
    b["rest"] = {{"url", f.endpoint}};
  } else {
    return InvalidError("--provider \"" + p +
                        "\" is not one of gcs, s3, azure, b2, swift, rest (a local backend "
                        "needs a volume: write the Repository with kubectl apply)");
  }
  if ((p == "s3" && f.endpoint.empty()) || (p == "rest" && f.endpoint.empty())) {
    return InvalidError("--endpoint is required for --provider=" + p);
  }
  if (p != "rest" && f.bucket.empty()) return InvalidError("--bucket is required");
  if (f.max_connections > 0 && p != "gcs" && p != "azure" && p != "b2") {
    return InvalidError("--max-connections applies to gcs, azure and b2 only");
  }
  return apis::FromJson<apis::Backend>(b);
}

// Creates `obj`, or sets its spec when it exists (Stash's CreateOrPatch).
template <class T>
Result<T> CreateOrPatchSpec(const kube::Client& client, const T& obj) {
  auto created = apis::Create(client, obj);
  if (created.ok() || created.status().code() != Code::kAlreadyExists) return created;
  return apis::MergePatch<T>(client, obj.metadata, json{{"spec", apis::ToJson(obj.spec)}});
}

int CreateRepository(const Globals& g, const std::string& name, const RepoFlags& f) {
  if (name.empty()) return Fail("Repository name is not provided ");
  auto backend = BackendFrom(f);
  if (!backend.ok()) return Fail(backend.status());
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  apis::Repository r;
  r.api_version = "stash.appscode.com/v1alpha1";
  r.kind = "Repository";
  r.metadata.name = name;
  r.metadata.namespace_ = c->ns;
  r.spec.backend = *backend;
  auto done = CreateOrPatchSpec(*c->client, r);
  if (!done.ok()) return Fail(done.status());
  std::cout << "Repository " << c->ns << "/" << name << " has been created successfully.\n";
  return kExitOk;
}

struct TargetFlags {
  std::string api_version, kind, name;
  std::string repo_name, repo_namespace;
  std::string driver, task;
  int32_t replica = 0;
  std::vector<std::string> volume_mounts;
};

// "name:mountPath[:subPath]" as Stash's getVolumeMounts.
Result<std::vector<apis::VolumeMount>> VolumeMounts(const std::vector<std::string>& specs) {
  std::vector<apis::VolumeMount> out;
  for (const std::string& s : specs) {
    std::vector<std::string> parts;
    for (size_t at = 0;;) {
      size_t colon = s.find(':', at);
      parts.push_back(s.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
      if (colon == std::string::npos) break;
      at = colon + 1;
    }
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
      return InvalidError("--volume-mounts \"" + s + "\" must be name:mountPath[:subPath]");
    }
    apis::VolumeMount m;
    m.name = parts[0];
    m.mount_path = parts[1];
    if (parts.size() == 3) m.sub_path = parts[2];
    out.push_back(m);
  }
  return out;
}

Status CheckDriver(const std::string& driver) {
  if (driver.empty() || driver == "Restic") return Status::Ok();
  if (driver == "VolumeSnapshotter") {
    return UnsupportedError(
        "--driver=VolumeSnapshotter: volume snapshots are not supported "
        "by this Stash; use Restic");
  }
  return InvalidError("--driver \"" + driver + "\" is not Restic or VolumeSnapshotter");
}

struct BackupFlags {
  TargetFlags target;
  std::string schedule, snapshot_class;
  std::vector<std::string> paths;
  apis::RetentionPolicy retention;
};

int CreateBackupConfig(const Globals& g, const std::string& name, const BackupFlags& f) {
  if (name.empty()) return Fail("BackupConfiguration name is not provided");
  if (Status s = CheckDriver(f.target.driver); !s.ok()) return Fail(s);
  if (!f.snapshot_class.empty()) {
    return Fail(
        "--volumesnpashotclass needs --driver=VolumeSnapshotter, which this Stash does "
        "not support");
  }
  auto mounts = VolumeMounts(f.target.volume_mounts);
  if (!mounts.ok()) return Fail(mounts.status());
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  apis::BackupConfiguration bc;
  bc.api_version = "stash.appscode.com/v1beta1";
  bc.kind = "BackupConfiguration";
  bc.metadata.name = name;
  bc.metadata.namespace_ = c->ns;
  bc.spec.schedule = f.schedule;
  bc.spec.driver = f.target.driver;
  bc.spec.task.name = f.target.task;
  bc.spec.repository.name = f.target.repo_name;
  bc.spec.repository.namespace_ = f.target.repo_namespace;
  if (!f.target.name.empty()) {
    apis::BackupTarget t;
    t.ref.api_version = f.target.api_version;
    t.ref.kind = f.target.kind;
    t.ref.name = f.target.name;
    t.paths = f.paths;
    t.volume_mounts = *mounts;
    if (f.target.replica > 0) t.replicas = f.target.replica;
    bc.spec.target = t;
  }
  apis::RetentionPolicy rp = f.retention;
  if (rp.name.empty()) rp.name = "keep-last-" + std::to_string(rp.keep_last ? rp.keep_last : 5);
  bc.spec.retention_policy = rp;
  auto done = CreateOrPatchSpec(*c->client, bc);
  if (!done.ok()) return Fail(done.status());
  std::cout << "BackupConfiguration " << c->ns << "/" << name
            << " has been created successfully.\n";
  return kExitOk;
}

struct RestoreFlags {
  TargetFlags target;
  std::string alias, host;
  std::vector<std::string> paths, snapshots;
  std::string claim_name, claim_storage_class, claim_size, claim_datasource;
  std::vector<std::string> claim_access_modes;
};

int CreateRestoreSession(const Globals& g, const std::string& name, const RestoreFlags& f) {
  if (name.empty()) return Fail("RestoreSession name is not provided");
  if (Status s = CheckDriver(f.target.driver); !s.ok()) return Fail(s);
  if (!f.claim_datasource.empty()) {
    return Fail(
        "--claim.datasource restores from a VolumeSnapshot, which this Stash does not "
        "support");
  }
  if (!f.paths.empty() && !f.snapshots.empty()) {
    return Fail("--paths and --snapshots cannot be used together in a rule");
  }
  auto mounts = VolumeMounts(f.target.volume_mounts);
  if (!mounts.ok()) return Fail(mounts.status());
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  apis::RestoreSession rs;
  rs.api_version = "stash.appscode.com/v1beta1";
  rs.kind = "RestoreSession";
  rs.metadata.name = name;
  rs.metadata.namespace_ = c->ns;
  rs.spec.driver = f.target.driver;
  rs.spec.task.name = f.target.task;
  rs.spec.repository.name = f.target.repo_name;
  rs.spec.repository.namespace_ = f.target.repo_namespace;
  apis::RestoreTarget t;
  t.ref.api_version = f.target.api_version;
  t.ref.kind = f.target.kind;
  t.ref.name = f.target.name;
  t.alias = f.alias;
  t.volume_mounts = *mounts;
  if (f.target.replica > 0) t.replicas = f.target.replica;
  apis::Rule rule;
  rule.source_host = f.host;
  rule.paths = f.paths;
  rule.snapshots = f.snapshots;
  t.rules.push_back(rule);
  if (!f.claim_name.empty()) {
    json pvc = {{"metadata", {{"name", f.claim_name}}},
                {"spec", {{"accessModes", f.claim_access_modes}}}};
    if (!f.claim_storage_class.empty()) pvc["spec"]["storageClassName"] = f.claim_storage_class;
    if (!f.claim_size.empty()) {
      pvc["spec"]["resources"] = {{"requests", {{"storage", f.claim_size}}}};
    }
    auto claim = apis::FromJson<apis::PersistentVolumeClaim>(pvc);
    if (!claim.ok()) return Fail(claim.status());
    t.volume_claim_templates.push_back(*claim);
  }
  rs.spec.target = t;
  auto done = CreateOrPatchSpec(*c->client, rs);
  if (!done.ok()) return Fail(done.status());
  std::cout << "RestoreSession " << c->ns << "/" << name << " has been created successfully.\n";
  return kExitOk;
}

// --- delete snapshot --------------------------------------------------------

int DeleteSnapshot(const Globals& g, const std::string& name) {
  if (name.empty()) return Fail("snapshot name not provided");
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || name.size() - dash - 1 != 8) {
    return Fail("invalid snapshot name \"" + name +
                "\": want <repository name>-<8-character snapshot id>");
  }
  auto c = Connect(g);
  if (!c.ok()) return Fail(c.status());
  static const kube::Resource kSnapshots{"repositories.stash.appscode.com", "v1alpha1", "snapshots",
                                         "Snapshot", true};
  Status s = c->client->Delete(kSnapshots, c->ns, name);
  if (!s.ok()) return Fail(s);
  std::cout << "Snapshot " << name.substr(dash + 1) << " has been deleted from Repository " << c->ns
            << "/" << name.substr(0, dash) << " successfully\n";
  return kExitOk;
}

void AddTargetFlags(CLI::App* cmd, TargetFlags& t) {
  cmd->add_option("--target-apiversion", t.api_version, "API-Version of the target resource");
  cmd->add_option("--target-kind", t.kind, "Kind of the target resource");
  cmd->add_option("--target-name", t.name, "Name of the target resource");
  cmd->add_option("--repo-name", t.repo_name, "Name of the Repository");
  cmd->add_option("--repo-namespace", t.repo_namespace, "Namespace of the Repository");
  cmd->add_option("--driver", t.driver,
                  "Driver indicates the mechanism used to backup (i.e. VolumeSnapshotter, Restic)");
  cmd->add_option("--task", t.task, "Name of the Task");
  cmd->add_option("--replica", t.replica,
                  "Replica specifies the number of replicas whose data should be backed up");
  cmd->add_option("--volume-mounts", t.volume_mounts, "List of volumes and their mountPaths")
      ->delimiter(',');
}

}  // namespace

int RunKubectlStash(const std::vector<std::string>& args) {
  CLI::App app{"kubectl plugin for Stash by AppsCode", "kubectl-stash"};
  app.require_subcommand(1);
  app.fallthrough();
  auto g = std::make_shared<Globals>();
  app.add_option("-n,--namespace", g->ns, "If present, the namespace scope for this CLI request");
  app.add_option("--kubeconfig", g->kubeconfig, "Path to the kubeconfig file to use");
  app.add_option("--context", g->context, "The name of the kubeconfig context to use");
  int code = kExitOk;
  auto name = std::make_shared<std::string>();

  auto* trigger = app.add_subcommand("trigger", "Trigger a backup");
  trigger->add_option("name", *name, "BackupConfiguration name");
  trigger->callback([&] { code = Trigger(*g, *name); });

  auto bc = std::make_shared<std::string>(), batch = std::make_shared<std::string>();
  for (bool pause : {true, false}) {
    auto* verb = app.add_subcommand(pause ? "pause" : "resume",
                                    pause ? "Pause Stash backup" : "Resume Stash backup");
    verb->require_subcommand(1);
    auto* backup = verb->add_subcommand("backup", pause ? "Pause backup" : "Resume backup");
    backup->add_option("--backupconfig", *bc, "Name of the BackupConfiguration");
    backup->add_option("--backupbatch", *batch, "Name of the BackupBatch");
    backup->callback([&, pause] { code = SetPaused(*g, *bc, *batch, pause); });
  }

  auto* unlock = app.add_subcommand("unlock", "Unlock Restic Repository");
  unlock->add_option("name", *name, "Repository name");
  unlock->callback([&] { code = Unlock(*g, *name); });

  auto check_opts = std::make_shared<engine::CheckOptions>();
  auto with_cache = std::make_shared<bool>(false);
  auto* check = app.add_subcommand("check", "Check a repository for errors");
  check->add_option("name", *name, "Repository name");
  check->add_flag("--read-data", check_opts->read_data, "Read all data blobs");
  check->add_option("--read-data-subset", check_opts->read_data_subset,
                    "Read a subset of data packs, specified as 'n/t' or 'x%'");
  check->add_flag("--with-cache", *with_cache, "Use the local cache (refused: see below)");
  check->callback([&] {
    if (*with_cache) {
      code = Fail(
          "--with-cache: kubectl stash checks what the store holds and keeps no local "
          "cache; run without it");
      return;
    }
    check_opts->show_progress = false;
    code = Check(*g, *name, *check_opts);
  });

  auto to = std::make_shared<std::string>();
  auto* cp = app.add_subcommand("cp", "Copy stash resources from one namespace to another");
  cp->require_subcommand(1);
  for (const char* kind : {"secret", "repository", "backupconfig"}) {
    auto* sub = cp->add_subcommand(kind, std::string("Copy a ") + kind);
    sub->add_option("name", *name);
    sub->add_option("--to-namespace", *to, "Destination namespace.");
    sub->callback([&, kind] { code = Copy(*g, kind, *name, *to); });
  }

  auto* create = app.add_subcommand("create", "Create a stash resource");
  create->require_subcommand(1);
  auto rf = std::make_shared<RepoFlags>();
  auto* crepo = create->add_subcommand("repository", "Create a new repository");
  crepo->add_option("name", *name);
  crepo->add_option("--provider", rf->provider, "Backend provider (i.e. gcs, s3, azure etc)");
  crepo->add_option("--bucket", rf->bucket, "Name of the cloud bucket/container");
  crepo->add_option("--endpoint", rf->endpoint, "Endpoint for s3/s3 compatible backend");
  crepo->add_option("--max-connections", rf->max_connections,
                    "Specify maximum concurrent connections for GCS, Azure and B2 backend");
  crepo->add_option("--secret", rf->secret, "Name of the Storage Secret");
  crepo->add_option("--prefix", rf->prefix, "Prefix denotes the directory inside the backend");
  crepo->callback([&] { code = CreateRepository(*g, *name, *rf); });

  auto bf = std::make_shared<BackupFlags>();
  auto* cbc = create->add_subcommand("backupconfig", "Create a new BackupConfiguration");
  cbc->add_option("name", *name);
  AddTargetFlags(cbc, bf->target);
  cbc->add_option("--schedule", bf->schedule, "Schedule of the Backup");
  cbc->add_option("--volumesnpashotclass", bf->snapshot_class, "Name of the VolumeSnapshotClass");
  cbc->add_option("--paths", bf->paths, "List of paths to backup")->delimiter(',');
  cbc->add_option("--keep-last", bf->retention.keep_last, "Specify value for retention strategy");
  cbc->add_option("--keep-hourly", bf->retention.keep_hourly,
                  "Specify value for retention strategy");
  cbc->add_option("--keep-daily", bf->retention.keep_daily, "Specify value for retention strategy");
  cbc->add_option("--keep-weekly", bf->retention.keep_weekly,
                  "Specify value for retention strategy");
  cbc->add_option("--keep-monthly", bf->retention.keep_monthly,
                  "Specify value for retention strategy");
  cbc->add_option("--keep-yearly", bf->retention.keep_yearly,
                  "Specify value for retention strategy");
  cbc->add_flag("--prune", bf->retention.prune, "Specify whether to prune old snapshot data");
  cbc->add_flag("--dry-run", bf->retention.dry_run,
                "Specify whether to test retention policy without deleting actual data");
  cbc->callback([&] { code = CreateBackupConfig(*g, *name, *bf); });

  auto sf = std::make_shared<RestoreFlags>();
  auto* crs = create->add_subcommand("restoresession", "Create a new RestoreSession");
  crs->add_option("name", *name);
  AddTargetFlags(crs, sf->target);
  crs->add_option("--alias", sf->alias, "Host identifier of the backed up data");
  crs->add_option("--host", sf->host, "Name of the Source host");
  crs->add_option("--paths", sf->paths, "List of paths to restore")->delimiter(',');
  crs->add_option("--snapshots", sf->snapshots, "Name of the Snapshot(single)")->delimiter(',');
  crs->add_option("--claim.name", sf->claim_name, "Name of the VolumeClaimTemplate");
  crs->add_option("--claim.access-modes", sf->claim_access_modes,
                  "Access mode of the VolumeClaimTemplates")
      ->delimiter(',');
  crs->add_option("--claim.storageclass", sf->claim_storage_class,
                  "Name of the StorageClass of the VolumeClaimTemplate");
  crs->add_option("--claim.size", sf->claim_size,
                  "Total requested size of the VolumeClaimTemplate");
  crs->add_option("--claim.datasource", sf->claim_datasource,
                  "DataSource of the VolumeClaimTemplate");
  crs->callback([&] { code = CreateRestoreSession(*g, *name, *sf); });

  auto* del = app.add_subcommand("delete", "Delete stash resources");
  del->require_subcommand(1);
  auto* dsnap = del->add_subcommand("snapshot", "Delete a snapshot from repository backend");
  dsnap->add_option("name", *name);
  dsnap->callback([&] { code = DeleteSnapshot(*g, *name); });

  std::vector<std::string> rev(args.rbegin(), args.rend());
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app.exit(e);
      return kExitOk;
    }
    std::cerr << "Error: " << e.what() << "\nRun 'kubectl stash --help' for usage.\n";
    return kExitUsage;
  }
  return code;
}

}  // namespace stash::cli
