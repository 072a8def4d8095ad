// `stash forget`: restic 0.14's forget — keep rules per group, explicit ids,
// --dry-run, --json, and --prune — under an exclusive lock.
#include <iostream>
#include <memory>
#include <set>

#include "cmd_prune.h"
#include "commands.h"
#include "stash/cli/app.h"
#include "stash/engine/forget.h"
#include "stash/engine/lock.h"

namespace stash::cli {

namespace {

struct ForgetFlags {
  engine::ExpirePolicy policy;
  std::string within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly;
  std::vector<std::string> keep_tags;
  std::vector<std::string> hosts, tags, paths;
  bool compact = false;
  std::string group_by = "host,paths";
  bool dry_run = false;
  bool prune = false;
  PruneFlags prune_flags;
  std::vector<std::string> ids;
};

// restic's TagList: comma separated, spaces trimmed, empty entries kept (an
// empty tag matches snapshots without tags).
std::vector<std::string> SplitTagList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    std::string t = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    out.push_back(t);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::variant<engine::ForgetRequest, CliError> BuildRequest(const ForgetFlags& f) {
  engine::ForgetRequest r;
  r.policy = f.policy;
  const std::pair<const std::string*, engine::KeepDuration*> durations[] = {
      {&f.within, &r.policy.within},
      {&f.within_hourly, &r.policy.within_hourly},
      {&f.within_daily, &r.policy.within_daily},
      {&f.within_weekly, &r.policy.within_weekly},
      {&f.within_monthly, &r.policy.within_monthly},
      {&f.within_yearly, &r.policy.within_yearly}};
  for (const auto& [text, out] : durations) {
    if (text->empty()) continue;
    auto d = engine::ParseKeepDuration(*text);
    if (!d.ok()) return CliError{kExitUsage, "stash: invalid duration: " + d.status().message()};
    *out = *d;
  }
  for (const std::string& t : f.keep_tags) r.policy.tags.push_back(SplitTagList(t));
  auto by = engine::ParseGroupBy(f.group_by);
  if (!by.ok()) return CliError{kExitError, "Fatal: " + by.status().message()};
  r.group_by = *by;
  r.filter.hosts = f.hosts;
  r.filter.paths = f.paths;
  for (const std::string& t : f.tags) r.filter.tags.push_back(engine::ParseTagList(t));
  r.ids = f.ids;
  return r;
}

int RunForget(const ResticOptions& ro, const ForgetFlags& f) {
  auto prune_opts = ResolvePruneFlags(f.prune_flags);
  if (auto rc = ReportCliError(prune_opts)) return *rc;
  auto req = BuildRequest(f);
  if (auto rc = ReportCliError(req)) return *rc;
  const engine::ForgetRequest& request = std::get<engine::ForgetRequest>(req);
  // --no-lock never locks; it is refused below unless --dry-run, after the
  // repository was opened (restic's order of complaints).
  auto opened = OpenExclusive(ro, /*lock=*/!ro.no_lock);
  if (auto* rc = std::get_if<int>(&opened)) return *rc;
  OpenedRepo& o = std::get<OpenedRepo>(opened);
  repo::Repository& repo = *o.repo;
  ResticContext& ctx = o.ctx;
  if (ro.no_lock && !f.dry_run) {
    std::cerr << "Fatal: --no-lock is only applicable in combination with --dry-run for forget "
                 "command\n";
    return kExitError;
  }
  auto warn = [](const std::string& w) { std::cerr << w << "\n"; };
  auto plan = engine::PlanForget(repo, request, ctx.clock->Now(), warn);
  if (!plan.ok()) {
    std::cerr << FatalError(plan.status()).message << "\n";
    return kExitError;
  }
  const bool chatty = !ro.json && !ro.quiet;
  if (chatty && request.ids.empty() && request.policy.Empty()) {
    std::cout << "no policy was specified, no snapshots will be removed\n";
  }
  if (!ro.json) std::cout << engine::ForgetText(*plan, ro.verbose, ro.quiet, f.compact);
  if (!plan->remove.empty()) {
    if (!f.dry_run) {
      if (Status s = engine::RemoveSnapshots(repo, plan->remove); !s.ok()) {
        std::cerr << FatalError(s).message << "\n";
        return kExitError;
      }
    } else if (!ro.json) {
      std::cout << "Would have removed the following snapshots:\n"
                << engine::ShortIdSet(plan->remove) << "\n\n";
    }
  }
  if (ro.json) std::cout << engine::ForgetJson(*plan);
  std::cout << std::flush;
  int rc = kExitOk;
  if (!plan->remove.empty() && f.prune) {
    if (chatty) {
      std::cout << plan->remove.size() << " snapshots have been removed, running prune\n";
    }
    rc = RunPruneWithRepo(ro, std::get<engine::PruneOptions>(prune_opts), f.dry_run, repo,
                          std::set<Id>(plan->remove.begin(), plan->remove.end()));
  }
  if (Status s = o.lock.Release(); !s.ok()) std::cerr << s.message() << "\n";
  return rc;
}

}  // namespace

void RegisterForget(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("forget", "Remove snapshots from the repository");
  auto f = std::make_shared<ForgetFlags>();
  cmd->add_option("-l,--keep-last", f->policy.last, "keep the last n snapshots");
  cmd->add_option("-H,--keep-hourly", f->policy.hourly, "keep the last n hourly snapshots");
  cmd->add_option("-d,--keep-daily", f->policy.daily, "keep the last n daily snapshots");
  cmd->add_option("-w,--keep-weekly", f->policy.weekly, "keep the last n weekly snapshots");
  cmd->add_option("-m,--keep-monthly", f->policy.monthly, "keep the last n monthly snapshots");
  cmd->add_option("-y,--keep-yearly", f->policy.yearly, "keep the last n yearly snapshots");
  const char* rel = " (eg. 1y5m7d2h) relative to the latest snapshot";
  cmd->add_option("--keep-within", f->within,
                  std::string("keep snapshots that are newer than duration") + rel);
  cmd->add_option("--keep-within-hourly", f->within_hourly,
                  std::string("keep hourly snapshots that are newer than duration") + rel);
  cmd->add_option("--keep-within-daily", f->within_daily,
                  std::string("keep daily snapshots that are newer than duration") + rel);
  cmd->add_option("--keep-within-weekly", f->within_weekly,
                  std::string("keep weekly snapshots that are newer than duration") + rel);
  cmd->add_option("--keep-within-monthly", f->within_monthly,
                  std::string("keep monthly snapshots that are newer than duration") + rel);
  cmd->add_option("--keep-within-yearly", f->within_yearly,
                  std::string("keep yearly snapshots that are newer than duration") + rel);
  auto repeated = [](CLI::Option* o) {
    o->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  repeated(cmd->add_option("--keep-tag", f->keep_tags,
                           "keep snapshots with this taglist (can be specified multiple times)"));
  repeated(cmd->add_option("--host,--hostname", f->hosts,
                           "only consider snapshots with the given host (can be repeated)"));
  repeated(cmd->add_option("--tag", f->tags,
                           "only consider snapshots which include this taglist in the format "
                           "tag[,tag,...] (can be specified multiple times)"));
  repeated(cmd->add_option("--path", f->paths,
                           "only consider snapshots which include this (absolute) path (can be "
                           "specified multiple times)"));
  cmd->add_flag("-c,--compact", f->compact, "use compact output format");
  cmd->add_option("-g,--group-by", f->group_by,
                  "group snapshots by host, paths and/or tags, separated by comma (disable "
                  "grouping with '')")
      ->capture_default_str();
  cmd->add_flag("-n,--dry-run", f->dry_run,
                "do not delete anything, just print what would be done");
  cmd->add_flag("--prune", f->prune,
                "automatically run the 'prune' command if snapshots have been removed");
  AddPruneFlags(cmd, &f->prune_flags);
  cmd->add_option("snapshotID", f->ids, "snapshot IDs to remove");
  cmd->callback([ro, f, exit_code] { *exit_code = RunForget(*ro, *f); });
}

}  // namespace stash::cli
