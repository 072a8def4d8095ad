#include "stash/engine/restore_rules.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "stash/engine/filter.h"
#include "stash/engine/lock.h"

namespace stash::engine {

namespace {

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string RuleName(size_t i) { return "rule " + std::to_string(i + 1); }

}  // namespace

Status ValidateRestoreRules(const std::vector<RestoreRule>& rules) {
  std::map<std::string, size_t> host_rule;
  std::optional<size_t> catch_all;
  for (size_t i = 0; i < rules.size(); ++i) {
    const RestoreRule& r = rules[i];
    if (r.target_hosts.empty()) {
      if (catch_all) {
        return InvalidError("invalid rules: " + RuleName(*catch_all) + " and " + RuleName(i) +
                            " both have no targetHosts; at most one rule may apply to every "
                            "host (give the others targetHosts)");
      }
      catch_all = i;
    }
    for (const std::string& h : r.target_hosts) {
      auto [it, inserted] = host_rule.emplace(h, i);
      if (!inserted && it->second != i) {
        return InvalidError("invalid rules: host \"" + h + "\" is in the targetHosts of both " +
                            RuleName(it->second) + " and " + RuleName(i) +
                            "; a host may match one rule only");
      }
    }
    if (!r.snapshots.empty() && !r.paths.empty()) {
      return InvalidError("invalid " + RuleName(i) +
                          ": snapshots and paths are mutually exclusive (snapshots are restored "
                          "as they are; paths pick the latest snapshot of each path)");
    }
    if (!r.include.empty() && !r.exclude.empty()) {
      return InvalidError("invalid " + RuleName(i) +
                          ": include and exclude patterns are mutually exclusive");
    }
    for (const auto* patterns : {&r.include, &r.exclude}) {
      if (auto p = PatternList::Parse(*patterns); !p.ok()) {
        return InvalidError("invalid " + RuleName(i) + ": " + p.status().message());
      }
    }
    for (const std::string& p : r.paths) {
      if (p.empty() || p[0] != '/') {
        return InvalidError("invalid " + RuleName(i) + ": path \"" + p +
                            "\" is not absolute (snapshots record absolute paths)");
      }
    }
  }
  return Status::Ok();
}

std::optional<RestoreRule> RuleForHost(const std::vector<RestoreRule>& rules,
                                       std::string_view host) {
  if (rules.empty()) return RestoreRule{};
  for (const RestoreRule& r : rules) {
    if (Contains(r.target_hosts, host)) return r;
  }
  for (const RestoreRule& r : rules) {
    if (r.target_hosts.empty()) return r;
  }
  return std::nullopt;
}

std::string StashHostName(std::string_view kind, std::string_view pod, std::string_view node) {
  if (kind == "StatefulSet") {
    size_t dash = pod.rfind('-');
    std::string_view ordinal = dash == std::string_view::npos ? "" : pod.substr(dash + 1);
    bool digits = !ordinal.empty() && std::all_of(ordinal.begin(), ordinal.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
    if (digits) return "host-" + std::string(ordinal);
  }
  if (kind == "DaemonSet" && !node.empty()) return std::string(node);
  return "host-0";
}

Result<std::vector<PlannedSnapshot>> PlanHostRestore(repo::Repository& repo,
                                                     const RestoreRule& rule,
                                                     std::string_view host) {
  const std::string source(rule.source_host.empty() ? host : rule.source_host);
  std::vector<PlannedSnapshot> out;
  for (const std::string& id : rule.snapshots) {
    auto entry = FindSnapshot(repo, id, SnapshotFilter{});
    if (!entry.ok()) {
      return Status(entry.status().code(), "snapshot \"" + id + "\" is not in the repository: " +
                                               entry.status().message());
    }
    out.push_back({std::move(*entry), "snapshot " + id});
  }
  if (!rule.snapshots.empty()) return out;
  std::vector<std::string> paths = rule.paths;
  if (paths.empty()) paths.push_back("");  // the latest snapshot of the host, whatever its paths
  for (const std::string& path : paths) {
    SnapshotFilter filter;
    filter.hosts = {source};
    if (!path.empty()) filter.paths = {path};
    auto entry = FindSnapshot(repo, "latest", filter);
    const std::string what = path.empty() ? "latest snapshot of host " + source
                                          : "latest snapshot of " + path + " from host " + source;
    if (!entry.ok()) {
      if (entry.status().code() != Code::kNotFound) return entry.status();
      return NotFoundError(
          "no snapshot " +
          (path.empty() ? "of host " + source : "of path " + path + " from host " + source) +
          " in the repository (check the rule's " +
          (rule.source_host.empty() ? "paths; sourceHost defaults to the host "
                                      "being restored"
                                    : "sourceHost and paths") +
          ")");
    }
    bool dup = std::any_of(out.begin(), out.end(),
                           [&](const PlannedSnapshot& p) { return p.snapshot.id == entry->id; });
    if (!dup) out.push_back({std::move(*entry), what});
  }
  return out;
}

Result<HostRestoreResult> RestoreHost(repo::Repository& repo, const std::vector<RestoreRule>& rules,
                                      std::string_view host, const HostRestoreOptions& opts) {
  HostRestoreResult result;
  std::optional<RestoreRule> rule = RuleForHost(rules, host);
  if (!rule) {
    result.selected = false;
    return result;
  }
  if (opts.clock == nullptr) return InternalError("RestoreHost: no clock");
  STASH_ASSIGN_OR_RETURN(ScopedLock lock,
                         ScopedLock::Acquire(repo, LockMode::kShared, *opts.clock));
  STASH_ASSIGN_OR_RETURN(result.restored, PlanHostRestore(repo, *rule, host));
  STASH_RETURN_IF_ERROR_CTX(repo.LoadIndex(), "loading the repository index");
  STASH_ASSIGN_OR_RETURN(PatternList includes, PatternList::Parse(rule->include));
  STASH_ASSIGN_OR_RETURN(PatternList excludes, PatternList::Parse(rule->exclude));
  std::mutex mu;
  std::vector<std::string> problems;
  uint64_t failed = 0;
  for (const PlannedSnapshot& planned : result.restored) {
    RestoreOptions ro;
    ro.target = opts.target;
    ro.includes = includes;
    ro.excludes = excludes;
    ro.workers = opts.workers;
    ro.path_map = opts.path_map;
    Restorer restorer(repo, planned.snapshot, std::move(ro),
                      [&](const std::string& location, const Status& error) {
                        std::lock_guard<std::mutex> l(mu);
                        ++failed;
                        if (problems.size() < 3)
                          problems.push_back(location + ": " + error.message());
                      });
    auto stats = restorer.Run();
    if (!stats.ok()) {
      return Status(stats.status().code(), "restoring " + planned.selected_by + " (" +
                                               planned.snapshot.id.ShortHex() +
                                               "): " + stats.status().message());
    }
    result.stats.files += stats->files;
    result.stats.dirs += stats->dirs;
    result.stats.other += stats->other;
    result.stats.bytes += stats->bytes;
    result.stats.bytes_skipped += stats->bytes_skipped;
    result.stats.errors += stats->errors;
  }
  if (failed > 0) {
    std::string msg =
        std::to_string(failed) + " file" + (failed == 1 ? "" : "s") + " could not be restored: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    if (failed > problems.size()) msg += "; …";
    return Status(Code::kIncomplete, msg);
  }
  return result;
}

}  // namespace stash::engine
