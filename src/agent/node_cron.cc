// The embedded node's CronJobs: NodeRuntime::RefreshCronJobs and
// SyncCronJobs (see node.h).
#include <spdlog/spdlog.h>

#include "node_informer.h"
#include "stash/agent/cron_jobs.h"
#include "stash/agent/kubelet.h"
#include "stash/agent/node.h"
#include "stash/agent/trigger.h"
#include "stash/apis/client.h"
#include "stash/core/strings.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"
#include "trigger_workers.h"

namespace stash::agent {

namespace {

using kube::json;
namespace res = kube::res;

const apis::PodSpec& PodSpecOf(const apis::CronJob& cj) {
  return cj.spec.job_template.spec.template_.spec;
}

// The container a tick runs: the first of the job template's; null when none.
const apis::Container* TriggerContainer(const apis::CronJob& cj) {
  const auto& containers = PodSpecOf(cj).containers;
  return containers.empty() ? nullptr : &containers.front();
}

std::string AccountOf(const apis::CronJob& cj) {
  const std::string& account = PodSpecOf(cj).service_account_name;
  return account.empty() ? "default" : account;
}

// `create-backupsession --invoker-name=X [--invoker-kind=K]` (either flag
// form); nullopt for any other command.
std::optional<TriggerOptions> TriggerCommand(const apis::Container& container,
                                             const std::string& ns) {
  std::vector<std::string> args;
  if (!container.command.empty()) {
    args.assign(container.command.begin() + 1, container.command.end());
  }
  args.insert(args.end(), container.args.begin(), container.args.end());
  if (args.empty() || args[0] != "create-backupsession") return std::nullopt;
  TriggerOptions t;
  t.ns = ns;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string a = args[i], value;
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (a == "--invoker-name") {
      t.invoker_name = value;
    } else if (a == "--invoker-kind") {
      t.invoker_kind = value;
    } else {
      return std::nullopt;  // a flag we do not know: run the real command
    }
  }
  if (t.invoker_name.empty()) return std::nullopt;
  return t;
}

}  // namespace

void NodeRuntime::RefreshCronJobs() {
  const SystemTime now = clock_.Now();
  std::set<std::string> changed;
  {
    std::lock_guard<std::mutex> lock(crons_changed_mu_);
    changed.swap(crons_changed_);
  }
  if (crons_dirty_.exchange(false)) {
    // Everything: the cache as it is now, and what it no longer holds.
    std::set<std::string> cached;
    for (std::shared_ptr<const apis::CronJob>& cj : cronjobs_->ListShared()) {
      std::string key = cj->metadata.Key();
      cached.insert(key);
      RefreshCronJob(key, std::move(cj), now);
    }
    for (const auto& [key, st] : crons_) {
      if (!cached.count(key)) changed.insert(key);
    }
    for (auto it = changed.begin(); it != changed.end();) {
      it = cached.count(*it) ? changed.erase(it) : std::next(it);
    }
  }
  for (const std::string& key : changed) RefreshCronJob(key, cronjobs_->Get(key), now);
}

void NodeRuntime::RefreshCronJob(const std::string& key, std::shared_ptr<const apis::CronJob> cj,
                                 SystemTime now) {
  const apis::Container* container = cj ? TriggerContainer(*cj) : nullptr;
  if (!container || container->image != opts_.stash_image) {
    auto it = crons_.find(key);
    if (it == crons_.end()) return;
    if (it->second.proc) it->second.proc->Stop();
    crons_.erase(it);
    return;
  }
  CronState& st = crons_[key];
  const std::string& schedule = cj->spec.schedule;
  if (schedule != st.schedule || !st.parsed) {
    st.schedule = schedule;
    auto parsed = kube::ParseCron(schedule);
    st.parsed.reset();
    if (parsed.ok()) {
      st.parsed = *parsed;
      st.next = parsed->Next(now);
    }
  }
  st.suspend = cj->spec.suspend.value_or(false);
  st.cronjob = std::move(cj);
}

void NodeRuntime::SyncCronJobs() {
  const SystemTime now = clock_.Now();
  for (auto& [key, st] : crons_) {
    if (st.proc && !st.proc->Running()) {
      const int code = st.proc->exit_code();
      spdlog::info("node: CronJob {} run finished with code {}", key, code);
      st.proc.reset();
      if (code != 0) {
        std::string tail = LogTail(st.log_path);
        // create-backupsession's message says which call was refused
        // (kube's "... is forbidden: User ...", or Unauthorized).
        const std::string lower = AsciiLower(tail);
        const bool denied = lower.find("forbidden") != std::string::npos ||
                            lower.find("unauthorized") != std::string::npos;
        RecordTriggerFailure(*st.cronjob, Status(denied ? Code::kForbidden : Code::kInternal,
                                                 "exit code " + std::to_string(code) +
                                                     (tail.empty() ? "" : ": " + tail)));
      }
    }
    if (!st.parsed || now < st.next) continue;
    SystemTime tick = st.next;
    st.next = st.parsed->Next(now);
    if (st.suspend) continue;
    if (st.proc || st.active->load() || st.job_active) {
      spdlog::warn("node: CronJob {}: previous run still active; skipping the tick (Forbid)", key);
      continue;
    }
    FireCronJob(key, st, tick);
  }
}

void NodeRuntime::FireCronJob(const std::string& key, CronState& st, SystemTime tick) {
  const std::shared_ptr<const apis::CronJob> shared = st.cronjob;
  const apis::CronJob& cj = *shared;
  const apis::Container* container = TriggerContainer(cj);
  if (!container) return;  // RefreshCronJobs keeps only CronJobs with one
  const std::string& ns = cj.metadata.namespace_;
  apis::CronJobStatus scheduled;
  scheduled.last_schedule_time = kube::FormatTime(tick);
  const json status_patch = apis::ToJson(scheduled);  // that member only
  std::optional<TriggerOptions> trigger;
  if (opts_.in_process_triggers) trigger = TriggerCommand(*container, ns);
  if (trigger) {
    st.active->store(true);
    const std::string account = AccountOf(cj);
    triggers_->Submit(
        [this, key, opts = *trigger, active = st.active, shared, status_patch, account] {
          // As the pod would: with its ServiceAccount's token, not the node's.
          auto client = TriggerClient(opts.ns, account);
          auto made = client.ok() ? CreateBackupSession(**client, clock_, opts)
                                  : Result<std::string>(client.status());
          if (!made.ok() && made.status().code() == Code::kUnauthorized) {
            // The account was remade (its old tokens died with it): mint anew
            // at the next tick.
            std::lock_guard<std::mutex> lock(trigger_clients_mu_);
            trigger_clients_.erase(opts.ns + "/" + account);
          }
          if (!made.ok()) RecordTriggerFailure(*shared, made.status());
          if (!made.ok()) {
            spdlog::warn("node: CronJob {}: {}", key, made.status().ToString());
          } else if (made->empty()) {
            spdlog::debug("node: CronJob {}: {}/{} is paused; no BackupSession", key, opts.ns,
                          opts.invoker_name);
          } else {
            spdlog::debug("node: CronJob {}: created BackupSession {}/{}", key, opts.ns, *made);
          }
          active->store(false);
          // Behind every session of this tick (the queue is FIFO): the sessions'
          // delay is what users wait for; the status can come later.
          triggers_->Submit([this, key, shared, status_patch] {
            Status p = PatchStatus(res::kCronJobs, shared->metadata, status_patch);
            if (!p.ok()) spdlog::warn("node: CronJob {} status: {}", key, p.ToString());
          });
        });
    return;
  }
  if (stash_in_runtime_) {
    FireCronJobAsJob(key, st, tick);
    return;
  }
  const std::string& name = cj.metadata.name;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(tick.time_since_epoch()).count();
  std::string pod = name + "-" + std::to_string(secs / 60);
  const std::string token_key = "cronjob-" + (cj.metadata.uid.empty() ? name : cj.metadata.uid);
  Container c = MakeContainer(ns, pod, token_key, PodSpecOf(cj), *container, ns + "_" + name);
  c.ns = ns;
  c.pod = pod;  // no pod_uid: its token is bound to no Pod
  if (Status s = EnsureToken(c); !s.ok()) {
    spdlog::error("node: running CronJob {}: mounting its ServiceAccount token: {}", key,
                  s.ToString());
    return;
  }
  auto proc = std::make_unique<ChildProcess>();
  if (Status s = proc->Start(c.argv, c.env, c.log_path, /*clean_env=*/true); !s.ok()) {
    spdlog::error("node: running CronJob {}: {}", key, s.ToString());
    return;
  }
  st.proc = std::move(proc);
  st.log_path = c.log_path;
  Status p = PatchStatus(res::kCronJobs, cj.metadata, status_patch);
  if (!p.ok()) spdlog::warn("node: CronJob {} status: {}", key, p.ToString());
}

void NodeRuntime::FireCronJobAsJob(const std::string& key, CronState& st, SystemTime tick) {
  const apis::CronJob& cj = *st.cronjob;
  const apis::Job job = JobForTick(cj, tick);
  auto made = apis::Create(client_, job);
  if (!made.ok() && made.status().code() != Code::kAlreadyExists) {
    spdlog::error("node: CronJob {}: creating Job {}: {}", key, job.metadata.name,
                  made.status().ToString());
    RecordTriggerFailure(cj, Status(made.status()).Prepend("creating Job " + job.metadata.name));
    return;
  }
  spdlog::info("node: CronJob {}: created Job {} for the tick at {}", key, job.metadata.name,
               kube::FormatTime(tick));
  st.job_active = true;  // until SyncCronJobJobs sees it end
  st.pending_job = job.metadata.name;
  st.pending_since = clock_.Now();
  jobs_dirty_ = true;
  apis::CronJobStatus scheduled;
  scheduled.last_schedule_time = kube::FormatTime(tick);
  Status p = PatchStatus(res::kCronJobs, cj.metadata, apis::ToJson(scheduled));
  if (!p.ok()) spdlog::warn("node: CronJob {} status: {}", key, p.ToString());
}

void NodeRuntime::SyncCronJobJobs() {
  if (!jobs_ || !jobs_->synced()) {
    jobs_dirty_ = true;
    return;
  }
  const std::vector<apis::Job> jobs = jobs_->List();
  std::map<std::string, std::vector<const apis::Job*>> owned;  // CronJob uid → its Jobs
  for (const apis::Job& j : jobs) {
    const apis::OwnerReference* o = j.metadata.ControllerRef();
    if (o && o->kind == res::kCronJobs.kind) owned[o->uid].push_back(&j);
  }
  for (auto& [key, st] : crons_) {
    const apis::CronJob& cj = *st.cronjob;
    auto it = owned.find(cj.metadata.uid);
    if (it == owned.end() && cj.status.active.empty() && st.pending_job.empty()) continue;
    static const std::vector<const apis::Job*> kNone;
    const CronJobJobs review = ReviewCronJobJobs(cj, it == owned.end() ? kNone : it->second);
    for (const apis::Job* j : it == owned.end() ? kNone : it->second) {
      if (j->metadata.name == st.pending_job) st.pending_job.clear();
    }
    // Made and deleted before the cache listed it: not waited for forever.
    if (clock_.Now() > st.pending_since + std::chrono::minutes(1)) st.pending_job.clear();
    st.job_active = !review.active.empty() || !st.pending_job.empty();
    for (const apis::Job* j : it == owned.end() ? kNone : it->second) {
      bool failed = false;
      if (!JobEnded(*j, &failed) || !failed) continue;
      // Reported once, when it ended (not again after a node restart).
      const std::string& ended = j->status.conditions.back().last_transition_time;
      if (ended < started_at_ || !st.failures_reported.insert(j->metadata.uid).second) continue;
      RecordTriggerFailure(cj, InternalError("its Job " + j->metadata.name +
                                             " failed (kubectl logs -n " + cj.metadata.namespace_ +
                                             " -l job-name=" + j->metadata.name + " says why)"));
    }
    for (const apis::Job* j : review.beyond_history) {
      Status d =
          apis::Delete<apis::Job>(client_, j->metadata.namespace_, j->metadata.name, "Background");
      if (!d.ok() && d.code() != Code::kNotFound) {
        spdlog::warn("node: CronJob {}: deleting Job {} beyond its history limit: {}", key,
                     j->metadata.name, d.ToString());
      }
    }
    const json patch = apis::MergePatchDiff(apis::ToJson(cj.status), apis::ToJson(review.status));
    if (patch.empty()) continue;
    Status p = PatchStatus(res::kCronJobs, cj.metadata, patch);
    if (!p.ok() && p.code() != Code::kNotFound) {
      spdlog::warn("node: CronJob {} status: {}", key, p.ToString());
    }
  }
}

void NodeRuntime::RecordTriggerFailure(const apis::CronJob& cj, const Status& why) {
  const apis::OwnerReference* owner = nullptr;
  for (const apis::OwnerReference& o : cj.metadata.owner_references) {
    if (o.kind == res::kBackupConfigurations.kind) owner = &o;
  }
  if (!owner || owner->name.empty()) return;  // not a BackupConfiguration's trigger
  const std::string& bc_name = owner->name;
  const std::string account = AccountOf(cj);
  const bool denied = why.code() == Code::kForbidden || why.code() == Code::kUnauthorized;
  std::string message = "The backup triggering CronJob " + cj.metadata.Key() + " (" +
                        "ServiceAccount " + account + ") " +
                        (denied ? "was denied: " : "made no BackupSession: ") + why.message();
  if (denied) {
    message += " (the operator grants its permissions through Role/RoleBinding stash-backup-" +
               bc_name + ")";
  }
  apis::ObjectReference bc;
  bc.api_version = res::kBackupConfigurations.ApiVersion();
  bc.kind = res::kBackupConfigurations.kind;
  bc.namespace_ = cj.metadata.namespace_;
  bc.name = bc_name;
  bc.uid = owner->uid;
  apis::EventRecorder recorder(client_, clock_, "Backup Triggering CronJob");
  Status s = recorder.Record(
      bc, apis::kWarning, denied ? "Permission Denied" : "BackupSession Creation Failed", message);
  if (!s.ok()) spdlog::warn("node: CronJob {}: event: {}", cj.metadata.Key(), s.ToString());
}

Result<std::shared_ptr<const kube::Client>> NodeRuntime::TriggerClient(const std::string& ns,
                                                                       const std::string& account) {
  const SystemTime now = clock_.Now();
  const std::string key = ns + "/" + account;
  {
    std::lock_guard<std::mutex> lock(trigger_clients_mu_);
    auto it = trigger_clients_.find(key);
    if (it != trigger_clients_.end() && now < it->second.minted + std::chrono::minutes(48)) {
      return it->second.client;
    }
  }
  // A CronJob run is bound to no Pod: an hour long, as EnsureToken's.
  auto token = ApiPodSources(client_).Token(ns, account, "", "", 3607);
  if (!token.ok()) {
    return Status(token.status()).Prepend("ServiceAccount token of " + key + " for the trigger");
  }
  kube::KubeConfig cfg = client_.config();
  cfg.token = *token;
  cfg.client_cert_pem.clear();
  cfg.client_key_pem.clear();
  auto client = std::make_shared<const kube::Client>(std::move(cfg));
  std::lock_guard<std::mutex> lock(trigger_clients_mu_);
  trigger_clients_[key] = {client, now};
  return client;
}

}  // namespace stash::agent
