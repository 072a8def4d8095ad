#include "stash/agent/backup_runner.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "stash/engine/backup_summary.h"
#include "stash/engine/progress.h"

namespace stash::agent {

namespace {

using nlohmann::json;

// A repository opened through the binary: every step is one command.
class CliSession final : public RepositorySession {
 public:
  CliSession(CliBackupRunner& runner, RepoTarget repo, bool created)
      : RepositorySession(created), runner_(runner), repo_(std::move(repo)) {}

  Result<engine::BackupStats> Backup(const BackupRequest& request) override;
  Result<RetentionResult> ApplyRetention(const apis::RetentionPolicy& policy) override;
  Status Check() override;
  Result<RepoStats> Stats() override;

 private:
  Result<ProcessResult> Run(const std::vector<std::string>& args, const EnvMap& env = {},
                            const std::function<void(std::string_view)>& on_line = {}) {
    return runner_.Run(repo_, args, env, on_line);
  }
  Result<Id> FullSnapshotId(const std::string& prefix);

  CliBackupRunner& runner_;
  const RepoTarget repo_;
};

// `forget --json`: groups with keep/remove lists (the first line that is a
// JSON array).
Result<RetentionResult> ParseForgetOutput(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '[') continue;
    json groups = json::parse(line, nullptr, false);
    if (!groups.is_array()) break;
    RetentionResult r;
    for (const json& g : groups) {
      if (!g.is_object()) continue;
      auto keep = g.find("keep"), remove = g.find("remove");
      if (keep != g.end() && keep->is_array()) r.kept += int64_t(keep->size());
      if (remove != g.end() && remove->is_array()) r.removed += int64_t(remove->size());
    }
    return r;
  }
  return InternalError("forget printed no --json result");
}

Result<Id> CliSession::FullSnapshotId(const std::string& prefix) {
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run({"snapshots", "--json", "--no-lock", prefix}));
  json list = json::parse(r.out, nullptr, false);
  if (r.exit_code == 0 && list.is_array() && list.size() == 1 && list[0].is_object()) {
    auto id = list[0].find("id");
    if (id != list[0].end() && id->is_string()) return Id::FromHex(id->get<std::string>());
  }
  return InternalError("finding snapshot " + prefix + " in " + repo_.url + ": " + ErrorText(r));
}

Result<engine::BackupStats> CliSession::Backup(const BackupRequest& request) {
  std::vector<std::string> args = {"backup", "--json", "--host", request.host};
  for (const auto& e : request.excludes) {
    args.push_back("--exclude");
    args.push_back(e);
  }
  const bool mapped = runner_.EngineReadsPathMap();
  // Always set (empty too): a map inherited from our own environment must not
  // apply to paths that were already translated.
  EnvMap env = {{std::string(engine::kPathMapEnv), mapped ? request.path_map.Serialize() : ""}};
  for (const auto& p : request.paths) args.push_back(mapped ? p : request.path_map.ToHost(p));
  auto on_line = [&request](std::string_view line) {
    if (!request.on_progress) return;
    if (auto report = engine::ParseStatusJson(line)) request.on_progress(*report);
  };
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(args, env, on_line));
  if (r.exit_code != 0 && r.exit_code != 3) {
    return FailedPreconditionError("backup to " + repo_.url + " failed: " + ErrorText(r));
  }
  std::string prefix;
  STASH_ASSIGN_OR_RETURN(engine::BackupStats s, engine::ParseBackupSummaryJson(r.out, &prefix));
  STASH_ASSIGN_OR_RETURN(s.snapshot_id, FullSnapshotId(prefix));
  if (r.exit_code == 3) s.errors = std::max<uint64_t>(s.errors, 1);  // some files unreadable
  return s;
}

Result<RetentionResult> CliSession::ApplyRetention(const apis::RetentionPolicy& policy) {
  std::vector<std::string> args = {"forget", "--json"};
  const std::pair<int64_t, const char*> keeps[] = {
      {policy.keep_last, "--keep-last"},       {policy.keep_hourly, "--keep-hourly"},
      {policy.keep_daily, "--keep-daily"},     {policy.keep_weekly, "--keep-weekly"},
      {policy.keep_monthly, "--keep-monthly"}, {policy.keep_yearly, "--keep-yearly"}};
  bool any = false;
  for (auto [n, flag] : keeps) {
    if (n == 0) continue;
    args.push_back(flag);
    args.push_back(std::to_string(n));
    any = true;
  }
  for (const std::string& tag : policy.keep_tags) {
    args.push_back("--keep-tag");
    args.push_back(tag);
    any = true;
  }
  if (!any) return RetentionResult{};  // nothing to forget
  if (policy.prune) args.push_back("--prune");
  if (policy.dry_run) args.push_back("--dry-run");
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(args));
  if (r.exit_code != 0 && ErrorText(r).find("locked") != std::string::npos) {
    // As Stash does: a stale lock (e.g. from a killed backup) blocks prune.
    runner_.Unlock(repo_).IgnoreError();
    STASH_ASSIGN_OR_RETURN(r, Run(args));
  }
  if (r.exit_code != 0) {
    return FailedPreconditionError("applying retention policy \"" + policy.name + "\" to " +
                                   repo_.url + ": " + ErrorText(r));
  }
  return ParseForgetOutput(r.out);
}

Status CliSession::Check() {
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run({"check"}));
  if (r.exit_code != 0) {
    return DataLossError("checking repository " + repo_.url + ": " + ErrorText(r));
  }
  return Status::Ok();
}

Result<RepoStats> CliSession::Stats() {
  STASH_ASSIGN_OR_RETURN(ProcessResult snaps, Run({"snapshots", "--json", "--no-lock"}));
  json list = json::parse(snaps.out, nullptr, false);
  if (snaps.exit_code != 0 || !list.is_array()) {
    return UnavailableError("listing snapshots of " + repo_.url + ": " + ErrorText(snaps));
  }
  STASH_ASSIGN_OR_RETURN(ProcessResult r,
                         Run({"stats", "--json", "--mode", "raw-data", "--no-lock"}));
  json j = json::parse(r.out, nullptr, false);
  auto size = j.is_object() ? j.find("total_size") : j.end();
  if (r.exit_code != 0 || size == j.end() || !size->is_number_unsigned()) {
    return UnavailableError("reading the size of " + repo_.url + ": " + ErrorText(r));
  }
  return RepoStats{size->get<uint64_t>(), int64_t(list.size())};
}

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

CliBackupRunner::CliBackupRunner(std::string binary, EnvMap extra_env,
                                 const std::atomic<bool>* cancel)
    : binary_(std::move(binary)), extra_env_(std::move(extra_env)), cancel_(cancel) {}

Result<ProcessResult> CliBackupRunner::Run(
    const RepoTarget& repo, const std::vector<std::string>& args, const EnvMap& extra,
    const std::function<void(std::string_view)>& on_line) const {
  // The repository goes in the environment, not argv: a URL may carry
  // credentials (rest:http://user:pass@...) and argv is visible to every
  // user in the process listing.
  std::vector<std::string> argv = {binary_};
  // A reader's short lock (someone's `restic snapshots`) must not fail a
  // scheduled backup's forget/prune: wait for it, for a bounded time (newer
  // restic's flag; restic 0.14 as the engine does not know it).
  if (EngineReadsPathMap()) {
    argv.push_back("--retry-lock=" + std::to_string(kLockRetry.count()) + "m");
  }
  argv.insert(argv.end(), global_args_.begin(), global_args_.end());
  argv.insert(argv.end(), args.begin(), args.end());
  EnvMap env = extra_env_;
  for (const auto& [k, v] : repo.env) env[k] = v;
  for (const auto& [k, v] : extra) env[k] = v;
  env.insert_or_assign("RESTIC_REPOSITORY", repo.url);
  return RunProcess(argv, env, cancel_, on_line);
}

bool CliBackupRunner::EngineReadsPathMap() const {
  return std::filesystem::path(binary_).filename().string().rfind("stash", 0) == 0;
}

Result<std::unique_ptr<RepositorySession>> CliBackupRunner::Open(const RepoTarget& repo) {
  STASH_ASSIGN_OR_RETURN(ProcessResult probe, Run(repo, {"snapshots", "--json", "--no-lock"}));
  bool created = false;
  if (probe.exit_code != 0) {
    const std::string err = ErrorText(probe);
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
      if (ec) return ErrnoError(ec.value(), "creating repository directory " + repo.local_dir);
    }
    STASH_ASSIGN_OR_RETURN(ProcessResult init, Run(repo, {"init"}));
    if (init.exit_code != 0) {
      // Another BackupConfiguration initialised it at the same moment: use
      // theirs (the engine removed the key it had written).
      bool theirs = false;
      if (ErrorText(init).find("already") != std::string::npos) {
        STASH_ASSIGN_OR_RETURN(ProcessResult again,
                               Run(repo, {"snapshots", "--json", "--no-lock"}));
        theirs = again.exit_code == 0;
      }
      if (!theirs) {
        return FailedPreconditionError("initialising repository " + repo.url + ": " +
                                       ErrorText(init));
      }
    } else {
      created = true;
    }
  }
  return std::unique_ptr<RepositorySession>(new CliSession(*this, repo, created));
}

Status CliBackupRunner::Unlock(const RepoTarget& repo) {
  STASH_ASSIGN_OR_RETURN(ProcessResult r, Run(repo, {"unlock"}));
  if (r.exit_code != 0) return UnavailableError("unlocking " + repo.url + ": " + ErrorText(r));
  return Status::Ok();
}

}  // namespace stash::agent
