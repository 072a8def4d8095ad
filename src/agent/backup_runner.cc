#include "stash/agent/backup_runner.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "stash/backend/factory.h"

namespace stash::agent {

using nlohmann::json;

namespace {
// How long a forget/prune waits for another process's lock.
constexpr std::string_view kRetryLock = "2m";
}  // namespace

std::string ErrorText(const ProcessResult& r) {
  std::istringstream in(r.err.empty() ? r.out : r.err);
  std::string line, text;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '{') continue;  // skip JSON progress lines
    if (!text.empty()) text += " ";
    text += line;
  }
  if (text.size() > 512) text = "…" + text.substr(text.size() - 512);
  if (text.empty()) text = "exit code " + std::to_string(r.exit_code);
  return text;
}

Result<SnapshotResult> ParseBackupSummary(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  std::optional<json> summary;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("message_type", "") == "summary") summary = j;
  }
  if (!summary) return InternalError("the backup printed no --json summary line");
  SnapshotResult r;
  r.snapshot_id = summary->value("snapshot_id", "");
  r.total_bytes = summary->value("total_bytes_processed", uint64_t{0});
  r.data_added = summary->value("data_added", uint64_t{0});
  r.processing_seconds = summary->value("total_duration", 0.0);
  r.total_files = summary->value("total_files_processed", int64_t{0});
  r.new_files = summary->value("files_new", int64_t{0});
  r.modified_files = summary->value("files_changed", int64_t{0});
  r.unmodified_files = summary->value("files_unmodified", int64_t{0});
  if (r.snapshot_id.empty()) return InternalError("the backup summary has no snapshot_id");
  return r;
}

Result<RetentionResult> ParseForgetOutput(const std::string& out) {
  // The JSON document is the first line starting with '['.
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '[') continue;
    json groups = json::parse(line, nullptr, false);
    if (!groups.is_array()) break;
    RetentionResult r;
    for (const json& g : groups) {
      if (g.contains("keep") && g["keep"].is_array()) r.kept += int64_t(g["keep"].size());
      if (g.contains("remove") && g["remove"].is_array()) r.removed += int64_t(g["remove"].size());
    }
    return r;
  }
  return InternalError("forget printed no --json result");
}

CliBackupRunner::CliBackupRunner(std::string binary, EnvMap extra_env,
                                 const std::atomic<bool>* cancel)
    : binary_(binary.empty() ? SelfExe() : std::move(binary)),
      extra_env_(std::move(extra_env)),
      cancel_(cancel) {}

Result<ProcessResult> CliBackupRunner::Run(const RepoTarget& repo, std::vector<std::string> args,
                                           const EnvMap& extra,
                                           const std::function<void(std::string_view)>& on_line) {
  // The repository goes in the environment, not argv: a URL may carry
  // credentials (rest:http://user:pass@...) and argv is visible to every
  // user in the process listing.
  std::vector<std::string> argv = {binary_};
  // A reader's short lock (someone's `restic snapshots`) must not fail a
  // scheduled backup's forget/prune: wait for it, for a bounded time (newer
  // restic's flag; restic 0.14 as the engine does not know it).
  if (EngineReadsPathMap()) argv.push_back("--retry-lock=" + std::string(kRetryLock));
  argv.insert(argv.end(), global_args_.begin(), global_args_.end());
  argv.insert(argv.end(), args.begin(), args.end());
  EnvMap env = extra_env_;
  for (const auto& [k, v] : repo.env) env[k] = v;
  for (const auto& [k, v] : extra) env[k] = v;
  env["RESTIC_REPOSITORY"] = repo.url;
  return RunProcess(argv, env, cancel_, on_line);
}

Result<bool> CliBackupRunner::EnsureRepository(const RepoTarget& repo) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.count(repo.url)) return false;
  }
  STASH_ASSIGN_OR_RETURN(ProcessResult probe, Run(repo, {"snapshots", "--json", "--no-lock"}));
  if (probe.exit_code == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    known_.insert(repo.url);
    return false;
  }
  std::string err = ErrorText(probe);
  if (err.find("wrong password") != std::string::npos) {
    return UnauthorizedError("repository " + repo.url + ": " + err +
                             " (check RESTIC_PASSWORD in the Repository's storage Secret)");
  }
  bool absent = err.find("Is there a repository") != std::string::npos ||
                err.find("unable to open config file") != std::string::npos ||
                err.find("does not exist") != std::string::npos;
  if (!absent) return UnavailableError("opening repository " + repo.url + ": " + err);
  if (!repo.local_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(repo.local_dir, ec);
    if (ec) {
      return Status(ErrnoError(ec.value(), "creating repository directory " + repo.local_dir));
    }
  }
  STASH_ASSIGN_OR_RETURN(ProcessResult init, Run(repo, {"init"}));
  if (init.exit_code != 0) {
    // Another BackupConfiguration initialised it at the same moment: use
    // theirs (the engine removed the key it had written).
    if (ErrorText(init).find("already") != std::string::npos) {
      STASH_ASSIGN_OR_RETURN(ProcessResult again,
                             Run(repo, {"snapshots", "--json", "--no-lock", "--no-cache"}));
      if (again.exit_code == 0) {
        std::lock_guard<std::mutex> lock(mu_);
        known_.insert(repo.url);
        return false;
      }
    }
    return FailedPreconditionError("initialising repository " + repo.url + ": " + ErrorText(init));
  }
  std::lock_guard<std::mutex> lock(mu_);
  known_.insert(repo.url);
  return true;
}

bool CliBackupRunner::EngineReadsPathMap() const {
  return binary_ == SelfExe() ||
         std::filesystem::path(binary_).filename().string().rfind("stash", 0) == 0;
}

Result<SnapshotResult> CliBackupRunner::Backup(const RepoTarget& repo, const std::string& host,
                                               const std::vector<std::string>& paths,
                                               const std::vector<std::string>& excludes,
                                               const engine::PathMap& map) {
  std::vector<std::string> args = {"backup", "--json", "--host", host};
  for (const auto& e : excludes) {
    args.push_back("--exclude");
    args.push_back(e);
  }
  EnvMap env;
  const bool mapped = EngineReadsPathMap();
  // Always set (empty too): a map inherited from our own environment must not
  // apply to paths that were already translated.
  env[engine::kPathMapEnv] = mapped ? map.Serialize() : "";
  for (const auto& p : paths) args.push_back(mapped ? p : map.ToHost(p));
  auto on_line = [this](std::string_view line) {
    if (!on_progress_ || line.find("\"message_type\":\"status\"") == std::string_view::npos) return;
    json status = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (status.is_object()) on_progress_(status);
  };
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(repo, args, env, on_line));
  if (r.exit_code != 0 && r.exit_code != 3) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      known_.erase(repo.url);  // gone, or a new password: probe again next time
    }
    return FailedPreconditionError("backup to " + repo.url + " failed: " + ErrorText(r));
  }
  STASH_ASSIGN_OR_RETURN(SnapshotResult s, ParseBackupSummary(r.out));
  s.partial = r.exit_code == 3;
  return s;
}

Result<RetentionResult> CliBackupRunner::ApplyRetention(const RepoTarget& repo,
                                                        const json& policy) {
  std::vector<std::string> args = {"forget", "--json"};
  static const std::pair<const char*, const char*> kKeeps[] = {
      {"keepLast", "--keep-last"},       {"keepHourly", "--keep-hourly"},
      {"keepDaily", "--keep-daily"},     {"keepWeekly", "--keep-weekly"},
      {"keepMonthly", "--keep-monthly"}, {"keepYearly", "--keep-yearly"}};
  bool any = false;
  for (auto [field, flag] : kKeeps) {
    if (policy.contains(field) && policy[field].is_number_integer()) {
      args.push_back(flag);
      args.push_back(std::to_string(policy[field].get<int64_t>()));
      any = true;
    }
  }
  for (const json& tag : policy.value("keepTags", json::array())) {
    args.push_back("--keep-tag");
    args.push_back(tag.get<std::string>());
    any = true;
  }
  if (!any) return RetentionResult{};  // nothing to forget
  if (policy.value("prune", false)) args.push_back("--prune");
  if (policy.value("dryRun", false)) args.push_back("--dry-run");
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(repo, args));
  if (r.exit_code != 0 && ErrorText(r).find("locked") != std::string::npos) {
    // As Stash does: a stale lock (e.g. from a killed backup) blocks prune.
    Unlock(repo).IgnoreError();
    STASH_ASSIGN_OR_RETURN(r, Run(repo, args));
  }
  if (r.exit_code != 0) {
    return FailedPreconditionError("applying retention policy \"" + policy.value("name", "") +
                                   "\" to " + repo.url + ": " + ErrorText(r));
  }
  return ParseForgetOutput(r.out);
}

Status CliBackupRunner::Check(const RepoTarget& repo) {
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(repo, {"check"}));
  if (r.exit_code != 0) {
    return DataLossError("checking repository " + repo.url + ": " + ErrorText(r));
  }
  return Status::Ok();
}

Status CliBackupRunner::Unlock(const RepoTarget& repo) {
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(repo, {"unlock"}));
  if (r.exit_code != 0) return UnavailableError("unlocking " + repo.url + ": " + ErrorText(r));
  return Status::Ok();
}

Result<uint64_t> CliBackupRunner::StoredSize(const RepoTarget& repo) {
  uint64_t total = 0;
  if (!clock_ || !random_) {
    if (repo.local_dir.empty()) return UnsupportedError("no way to list a remote store here");
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(repo.local_dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) total += it->file_size(ec);
    }
    if (ec) return Status(ErrnoError(ec.value(), "listing " + repo.local_dir));
    return total;
  }
  // The engine sees the process environment (STORAGE_EMULATOR_HOST, CA
  // settings); the backend must see the same, with the Secret's keys on top.
  backend::Env env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra_env_) env[k] = v;
  for (const auto& [k, v] : repo.env) env[k] = v;
  STASH_ASSIGN_OR_RETURN(backend::BackendPtr store,
                         backend::OpenBackend(repo.url, env, *clock_, *random_));
  for (backend::FileType t :
       {backend::FileType::kConfig, backend::FileType::kKey, backend::FileType::kSnapshot,
        backend::FileType::kIndex, backend::FileType::kPack}) {
    if (t == backend::FileType::kConfig) {
      auto info = store->Stat({t, "config"});
      if (info.ok()) total += info->size;
      continue;
    }
    STASH_RETURN_IF_ERROR(store->List(t, [&](const backend::FileInfo& f) {
      total += f.size;
      return Status::Ok();
    }));
  }
  return total;
}

Result<RepoStats> CliBackupRunner::Stats(const RepoTarget& repo) {
  STASH_ASSIGN_OR_RETURN(ProcessResult snaps, Run(repo, {"snapshots", "--json", "--no-lock"}));
  if (snaps.exit_code != 0) {
    return UnavailableError("listing snapshots of " + repo.url + ": " + ErrorText(snaps));
  }
  RepoStats stats;
  json list = json::parse(snaps.out, nullptr, false);
  if (list.is_array()) stats.snapshot_count = int64_t(list.size());
  STASH_ASSIGN_OR_RETURN(ProcessResult r,
                         Run(repo, {"stats", "--json", "--mode", "raw-data", "--no-lock"}));
  json j = json::parse(r.out, nullptr, false);
  if (r.exit_code == 0 && j.is_object()) {
    stats.total_size = j.value("total_size", uint64_t{0});
    return stats;
  }
  auto stored = StoredSize(repo);
  if (!stored.ok()) {
    return UnavailableError("reading the size of " + repo.url + ": the engine has no `stats` (" +
                            ErrorText(r) +
                            ") and listing the store failed: " + stored.status().message());
  }
  stats.total_size = *stored;
  return stats;
}

}  // namespace stash::agent
