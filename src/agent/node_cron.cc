// The embedded node's CronJobs: NodeRuntime::RefreshCronJobs and
// SyncCronJobs (see node.h).
#include <spdlog/spdlog.h>

#include "node_informer.h"
#include "stash/agent/kubelet.h"
#include "stash/agent/node.h"
#include "stash/agent/trigger.h"
#include "stash/core/strings.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"
#include "trigger_workers.h"

namespace stash::agent {

namespace {

using kube::json;
namespace res = kube::res;

std::string NsOf(const json& o) { return o.value("/metadata/namespace"_json_pointer, ""); }
std::string NameOf(const json& o) { return o.value("/metadata/name"_json_pointer, ""); }

json TriggerContainer(const json& cj) {
  json containers =
      cj.value("/spec/jobTemplate/spec/template/spec/containers"_json_pointer, json::array());
  return containers.empty() ? json() : containers[0];
}

// `create-backupsession --invoker-name=X [--invoker-kind=K]` (either flag
// form); nullopt for any other command.
std::optional<TriggerOptions> TriggerCommand(const json& container, const std::string& ns) {
  std::vector<std::string> args;
  json command = container.value("command", json::array());
  for (size_t i = 1; i < command.size(); ++i) args.push_back(command[i].get<std::string>());
  for (const json& a : container.value("args", json::array())) args.push_back(a.get<std::string>());
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
  std::map<std::string, bool> seen;
  for (json& cj : cronjobs_->List()) {
    if (TriggerContainer(cj).value("image", "") != opts_.stash_image) continue;
    std::string key = NsOf(cj) + "/" + NameOf(cj);
    seen[key] = true;
    CronState& st = crons_[key];
    std::string schedule = cj.value("/spec/schedule"_json_pointer, "");
    if (schedule != st.schedule || !st.parsed) {
      st.schedule = schedule;
      auto parsed = kube::ParseCron(schedule);
      st.parsed.reset();
      if (parsed.ok()) {
        st.parsed = *parsed;
        st.next = parsed->Next(now);
      }
    }
    st.suspend = cj.value("/spec/suspend"_json_pointer, false);
    st.cronjob = std::move(cj);
  }
  for (auto it = crons_.begin(); it != crons_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    if (it->second.proc) it->second.proc->Stop();
    it = crons_.erase(it);
  }
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
        RecordTriggerFailure(st.cronjob, Status(denied ? Code::kForbidden : Code::kInternal,
                                                "exit code " + std::to_string(code) +
                                                    (tail.empty() ? "" : ": " + tail)));
      }
    }
    if (!st.parsed || now < st.next) continue;
    SystemTime tick = st.next;
    st.next = st.parsed->Next(now);
    if (st.suspend) continue;
    if (st.proc || st.active->load()) {
      spdlog::warn("node: CronJob {}: previous run still active; skipping the tick (Forbid)", key);
      continue;
    }
    FireCronJob(key, st, tick);
  }
}

void NodeRuntime::FireCronJob(const std::string& key, CronState& st, SystemTime tick) {
  const json& cj = st.cronjob;
  const json container = TriggerContainer(cj);
  json status_patch = {{"lastScheduleTime", kube::FormatTime(tick)}};
  std::optional<TriggerOptions> trigger;
  if (opts_.in_process_triggers) trigger = TriggerCommand(container, NsOf(cj));
  if (trigger) {
    st.active->store(true);
    std::string account =
        cj.value("/spec/jobTemplate/spec/template/spec/serviceAccountName"_json_pointer, "default");
    if (account.empty()) account = "default";
    triggers_->Submit([this, key, opts = *trigger, active = st.active, cj, status_patch, account] {
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
      if (!made.ok()) RecordTriggerFailure(cj, made.status());
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
      triggers_->Submit([this, key, cj, status_patch] {
        Status p = PatchStatus(res::kCronJobs, cj, status_patch);
        if (!p.ok()) spdlog::warn("node: CronJob {} status: {}", key, p.ToString());
      });
    });
    return;
  }
  const json pod_spec =
      cj.value("/spec/jobTemplate/spec/template/spec"_json_pointer, json::object());
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(tick.time_since_epoch()).count();
  std::string pod = NameOf(cj) + "-" + std::to_string(secs / 60);
  Container c =
      MakeContainer(NsOf(cj), pod, "cronjob-" + cj.value("/metadata/uid"_json_pointer, NameOf(cj)),
                    pod_spec, container, NsOf(cj) + "_" + NameOf(cj));
  c.ns = NsOf(cj);
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
  Status p = PatchStatus(res::kCronJobs, cj, status_patch);
  if (!p.ok()) spdlog::warn("node: CronJob {} status: {}", key, p.ToString());
}

void NodeRuntime::RecordTriggerFailure(const json& cj, const Status& why) {
  std::string bc_name;
  for (const json& o : cj.value("/metadata/ownerReferences"_json_pointer, json::array())) {
    if (o.value("kind", "") == res::kBackupConfigurations.kind) bc_name = o.value("name", "");
  }
  if (bc_name.empty()) return;  // not a BackupConfiguration's trigger
  const std::string account =
      cj.value("/spec/jobTemplate/spec/template/spec/serviceAccountName"_json_pointer, "default");
  const bool denied = why.code() == Code::kForbidden || why.code() == Code::kUnauthorized;
  std::string message = "The backup triggering CronJob " + NsOf(cj) + "/" + NameOf(cj) + " (" +
                        "ServiceAccount " + account + ") " +
                        (denied ? "was denied: " : "made no BackupSession: ") + why.message();
  if (denied) {
    message += " (the operator grants its permissions through Role/RoleBinding stash-backup-" +
               bc_name + ")";
  }
  apis::ObjectReference bc;
  bc.api_version = res::kBackupConfigurations.ApiVersion();
  bc.kind = res::kBackupConfigurations.kind;
  bc.namespace_ = NsOf(cj);
  bc.name = bc_name;
  for (const json& o : cj.value("/metadata/ownerReferences"_json_pointer, json::array())) {
    if (o.value("name", "") == bc_name) bc.uid = o.value("uid", "");
  }
  apis::EventRecorder recorder(client_, clock_, "Backup Triggering CronJob");
  Status s = recorder.Record(
      bc, apis::kWarning, denied ? "Permission Denied" : "BackupSession Creation Failed", message);
  if (!s.ok()) spdlog::warn("node: CronJob {}/{}: event: {}", NsOf(cj), NameOf(cj), s.ToString());
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
