#include "stash/agent/node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "node_heartbeat.h"
#include "node_informer.h"
#include "node_kubelet.h"
#include "node_streams.h"
#include "stash/agent/kubelet.h"
#include "stash/agent/probe.h"
#include "stash/agent/repository.h"
#include "stash/agent/sidecar.h"
#include "stash/agent/trigger.h"
#include "stash/apis/apps.h"
#include "stash/apis/batch.h"
#include "stash/kube/cron.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"
#include "trigger_workers.h"

namespace stash::agent {

namespace {

using kube::json;
namespace res = kube::res;
namespace fs = std::filesystem;

std::string SafeName(std::string s) {
  for (char& c : s) {
    if (c == '/') c = '_';
  }
  return s;
}

}  // namespace

NodeRuntime::NodeRuntime(const kube::Client& client, Clock& clock, Random& random, NodeOptions opts)
    : client_(client),
      clock_(clock),
      opts_(std::move(opts)),
      pod_keeper_(client, random, opts_.node_name),
      kubelet_events_(client, clock, "kubelet") {
  if (opts_.stash_binary.empty()) opts_.stash_binary = SelfExe();
}

NodeRuntime::~NodeRuntime() { Stop(); }

void NodeRuntime::Start() {
  stop_ = false;
  std::error_code ec;
  fs::create_directories(opts_.data_dir + "/logs", ec);
  pvcs_ = std::make_unique<TypedNodeInformer<apis::PersistentVolumeClaim>>(
      client_, clock_, [this](const std::string& type, const apis::PersistentVolumeClaim& pvc) {
        OnPvc(type, pvc);
      });
  pods_dirty_ = true;
  crons_dirty_ = true;
  jobs_dirty_ = true;
  started_at_ = kube::FormatTime(clock_.Now());
  triggers_ = std::make_unique<TriggerWorkers>(4);
  cronjobs_ = std::make_unique<TypedNodeInformer<apis::CronJob>>(
      client_, clock_, [this](const std::string&, const apis::CronJob& cj) {
        std::lock_guard<std::mutex> lock(crons_changed_mu_);
        crons_changed_.insert(cj.metadata.Key());
      });
  pods_ = std::make_unique<TypedNodeInformer<apis::Pod>>(
      client_, clock_, [this](const std::string&, const apis::Pod&) { pods_dirty_ = true; });
  // Deployments', StatefulSets' and DaemonSets' pods are the cluster's
  // controllers' (src/api/workloads.h); the node runs those bound to it.
  auto jobs = std::make_unique<TypedNodeInformer<apis::Job>>(
      client_, clock_, [this](const std::string&, const apis::Job&) {
        pods_dirty_ = true;
        jobs_dirty_ = true;
      });
  jobs_ = jobs.get();
  workloads_.push_back(std::move(jobs));
  StartKubelet();
  ChooseStashMode(/*at_start=*/true);
  pvcs_->Start();
  heartbeat_ = std::make_unique<NodeHeartbeat>(client_, clock_, opts_.node_name, opts_.data_dir);
  heartbeat_->Start();
  cronjobs_->Start();
  pods_->Start();
  for (auto& w : workloads_) w->Start();
  loop_exited_ = false;
  loop_ = std::thread([this] {
    Loop();
    loop_exited_ = true;
  });
}

void NodeRuntime::Stop() {
  stop_ = true;
  kube::JoinWaking(clock_, loop_, loop_exited_);  // not after its next 200 ms sleep
  streams_.reset();
  if (kubelet_) kubelet_->Stop();
  kubelet_.reset();
  triggers_.reset();
  heartbeat_.reset();
  for (auto& w : workloads_) w->RequestStop();
  apis::StopTogether(pvcs_, cronjobs_, pods_);
  for (auto& w : workloads_) w->Stop();
  workloads_.clear();
  jobs_ = nullptr;
  for (auto& [key, r] : running_) {
    if (r.proc) r.proc->Stop();
  }
  running_.clear();
  for (auto& [key, c] : crons_) {
    if (c.proc) c.proc->Stop();
  }
  crons_.clear();
  desired_.clear();
  finished_.clear();
  pods_now_.clear();
}

std::string NodeRuntime::VolumeHostDir(const std::string& ns, const std::string& pod,
                                       const apis::Volume& volume) const {
  const apis::VolumeSource& src = volume.source;
  if (src.persistent_volume_claim) {
    return VolumeDir(opts_.data_dir, ns, src.persistent_volume_claim->claim_name);
  }
  if (src.host_path) return src.host_path->path;
  if (src.empty_dir) return opts_.data_dir + "/emptydir/" + ns + "/" + pod + "/" + volume.name;
  return "";
}

Status NodeRuntime::PatchStatus(const kube::Resource& r, const apis::ObjectMeta& meta,
                                const json& status_patch) {
  const json patch = {{"status", status_patch}};
  auto p = client_.Patch(r, meta.namespace_, meta.name, kube::PatchType::kMerge, patch, "status");
  if (p.ok()) return Status::Ok();
  if (p.status().code() != Code::kNotFound && p.status().code() != Code::kUnsupported) {
    return p.status();
  }
  // A server without the status subresource for this kind takes it on the object.
  auto q = client_.Patch(r, meta.namespace_, meta.name, kube::PatchType::kMerge, patch);
  return q.ok() ? Status::Ok() : q.status();
}

void NodeRuntime::OnPvc(const std::string& type, const apis::PersistentVolumeClaim& pvc) {
  // Binding, provisioning and reclaim are the API server's (its volume
  // controller makes and removes <volumes>/<ns>/<claim>); the node only makes
  // sure a bound claim's directory is there to mount.
  if (type == "DELETED" || !pvc.metadata.deletion_timestamp.empty()) return;
  if (pvc.status.phase != "Bound") return;
  std::string dir = VolumeDir(opts_.data_dir, pvc.metadata.namespace_, pvc.metadata.name);
  std::error_code ec;
  // 0777 as the API server's provisioner makes it: pods run as any user.
  if (fs::create_directories(dir, ec) && !ec) fs::permissions(dir, fs::perms::all, ec);
  if (ec) {
    spdlog::error("creating the directory of PVC {} at {}: {}", pvc.metadata.Key(), dir,
                  ec.message());
  }
}

NodeRuntime::Container NodeRuntime::MakeContainer(const std::string& ns, const std::string& pod,
                                                  const std::string& token_key,
                                                  const apis::PodSpec& pod_spec,
                                                  const apis::Container& c,
                                                  const std::string& log_name) {
  Container out;
  EnvMap& env = out.env;
  // What a container runtime starts with: PATH and the host name.
  env.insert_or_assign("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  env.insert_or_assign("HOSTNAME", pod);
  const std::string home = opts_.data_dir + "/pods/" + token_key + "/home";
  env.insert_or_assign("HOME", home);
  out.not_ready_file = opts_.data_dir + "/pods/" + token_key + "/not-ready";
  env[kNotReadyFileEnv] = out.not_ready_file;
  std::error_code home_ec;
  fs::create_directories(home, home_ec);
  for (const std::string& name : opts_.pass_env) {
    if (const char* v = std::getenv(name.c_str())) env[name] = v;  // the spec's env wins
  }
  // The container's command names stash's binary: ours runs instead.
  out.readiness = c.readiness_probe;
  out.ports = NamedPorts(c);
  if (out.readiness && out.readiness->exec && !out.readiness->exec->command.empty() &&
      fs::path(out.readiness->exec->command[0]).filename() == "stash") {
    out.readiness->exec->command[0] = opts_.stash_binary;
  }
  out.argv.push_back(opts_.stash_binary);
  for (size_t i = 1; i < c.command.size(); ++i) out.argv.push_back(c.command[i]);
  out.argv.insert(out.argv.end(), c.args.begin(), c.args.end());
  for (const apis::EnvVar& e : c.env) {
    if (!e.value_from) {
      env[e.name] = e.value;
      continue;
    }
    const std::string field = e.value_from->field_ref ? e.value_from->field_ref->field_path : "";
    if (field == "metadata.name")
      env[e.name] = pod;
    else if (field == "metadata.namespace")
      env[e.name] = ns;
    else if (field == "spec.nodeName")
      env[e.name] = opts_.node_name;
  }
  PathMap map;
  std::map<std::string, const apis::Volume*> volumes;
  for (const apis::Volume& v : pod_spec.volumes) volumes[v.name] = &v;
  for (const apis::VolumeMount& m : c.volume_mounts) {
    auto it = volumes.find(m.name);
    if (it == volumes.end()) continue;
    std::string dir = VolumeHostDir(ns, pod, *it->second);
    if (dir.empty()) continue;
    std::error_code ec;
    // An emptyDir is 0777 when made, as kubelet makes it (Kubelet::Volumes):
    // the pod's other containers may run as any user.
    if (it->second->source.empty_dir && fs::create_directories(dir, ec) && !ec) {
      fs::permissions(dir, fs::perms::all, ec);
    }
    if (!m.sub_path.empty()) dir += "/" + m.sub_path;
    fs::create_directories(dir, ec);
    map.Add(m.mount_path, dir);
  }
  // In-cluster configuration, as kubelet gives it: the API server's address
  // and, unless the pod opts out, its ServiceAccount's token.
  env.insert_or_assign("KUBERNETES_SERVICE_HOST", api_host_);
  env.insert_or_assign("KUBERNETES_SERVICE_PORT", std::to_string(api_port_));
  env.insert_or_assign("KUBERNETES_SERVICE_PORT_HTTPS", std::to_string(api_port_));
  if (pod_spec.automount_service_account_token.value_or(true)) {
    out.account = !pod_spec.service_account_name.empty() ? pod_spec.service_account_name
                  : !pod_spec.service_account.empty()    ? pod_spec.service_account
                                                         : "default";
    // Not the runtime's kube-api-access of the same pod: its tokens last an
    // hour and are renewed for readers that read them again.
    out.token_dir = opts_.data_dir + "/pods/" + token_key + "/volumes/stash-api-access";
    map.Add(kServiceAccountMountPath, out.token_dir);
    env.insert_or_assign("STASH_SERVICEACCOUNT_DIR", out.token_dir);
  }
  env[kPathMapEnv] = map.Serialize();
  env[kDataDirEnv] = opts_.data_dir;
  env.insert_or_assign("POD_NAMESPACE", ns);
  env.emplace("POD_NAME", pod);  // unless the spec set it
  out.log_path = opts_.data_dir + "/logs/" + SafeName(log_name) + ".log";
  json fingerprint = {out.argv, out.env};
  out.spec_hash = fingerprint.dump();
  return out;
}

Status NodeRuntime::EnsureToken(const Container& c) {
  if (c.token_dir.empty()) return Status::Ok();
  // A stash process reads its token once, at start. A token bound to its
  // Pod is asked for a year (as kube-apiserver's
  // --service-account-extend-token-expiration makes kubelet's): it stops
  // working when the pod goes. A CronJob run's, bound to nothing, lasts an
  // hour. Both are renewed as kubelet renews, at 48 minutes, so a restarted
  // process starts with a current one (its account may have been remade).
  const SystemTime now = clock_.Now();
  auto written = tokens_written_.find(c.token_dir);
  if (written != tokens_written_.end() && now < written->second + std::chrono::minutes(48) &&
      fs::exists(c.token_dir + "/token")) {
    return Status::Ok();
  }
  ApiPodSources sources(client_);
  // A CronJob's run has no Pod object to bind the token to.
  const bool bound = !c.pod_uid.empty();
  auto token = sources.Token(c.ns, c.account, bound ? c.pod : "", c.pod_uid,
                             bound ? int64_t{365} * 24 * 3600 : 3607);
  if (!token.ok()) return token.status();
  std::map<std::string, std::string> files = {{"token", *token}, {"namespace", c.ns}};
  if (!client_.config().ca_pem.empty()) files["ca.crt"] = client_.config().ca_pem;
  STASH_RETURN_IF_ERROR(WriteVolumeFiles(c.token_dir, files, 0644));
  tokens_written_[c.token_dir] = now;
  return Status::Ok();
}

std::optional<std::vector<apis::Pod>> NodeRuntime::SyncPods() {
  // Before every informer has listed, a missing pod or Job may only be not
  // seen yet; acting then would delete or duplicate pods.
  if (!pods_->synced() || !jobs_->synced()) return std::nullopt;
  return pod_keeper_.Sync(jobs_->List(), pods_->List());
}

std::map<std::string, NodeRuntime::Container> NodeRuntime::DesiredContainers(
    const std::vector<apis::Pod>& pods) {
  std::map<std::string, int64_t> backoff_limits;  // Job uid → spec.backoffLimit
  if (jobs_) {
    for (const apis::Job& j : jobs_->List()) {
      backoff_limits[j.metadata.uid] = j.spec.backoff_limit.value_or(6);
    }
  }
  std::map<std::string, Container> desired;
  std::set<std::string> uids;
  std::vector<apis::Pod> kubelet_pods;
  for (const apis::Pod& p : pods) {
    if (!p.metadata.deletion_timestamp.empty()) continue;
    const std::string& ns = p.metadata.namespace_;
    const std::string& pod = p.metadata.name;
    const std::string& uid = p.metadata.uid;
    uids.insert(uid);
    const apis::PodSpec& pod_spec = p.spec;
    const std::string policy = pod_spec.restart_policy.empty() ? "Always" : pod_spec.restart_policy;
    int64_t backoff = -1;
    for (const apis::OwnerReference& o : p.metadata.owner_references) {
      if (o.kind != "Job") continue;
      auto it = backoff_limits.find(o.uid);
      backoff = it == backoff_limits.end() ? 6 : it->second;
    }
    auto done = [&](const std::string& key, bool success_only) {
      auto f = finished_.find(key);
      if (f == finished_.end() || f->second.pod_uid != uid) return false;
      return !success_only || f->second.state.terminated->exit_code == 0;
    };
    auto make = [&](const apis::Container& c, bool init) {
      Container k = MakeContainer(ns, pod, uid, pod_spec, c, ns + "_" + pod + "_" + c.name);
      k.ns = ns;
      k.pod = pod;
      k.pod_uid = uid;
      k.name = c.name;
      k.init = init;
      k.restart_policy = policy;
      k.backoff_limit = backoff;
      k.spec_hash += "\n" + uid;  // a replaced pod (same name) starts afresh
      return k;
    };
    // Stash's init containers, one at a time, in order: the next (or the
    // pod's containers) only once the previous exited 0.
    bool initialized = true;
    for (const apis::Container& c : pod_spec.init_containers) {
      if (!RunsAsProcess(c)) continue;  // the runtime's, or not run: not waited for
      const std::string key = ns + "/" + pod + "/" + c.name;
      if (done(key, true)) continue;
      desired[key] = make(c, true);
      initialized = false;
      break;
    }
    if (kubelet_) {
      kubelet_pods.push_back(KubeletPod(p, initialized));
      // Stash's containers start once the runtime's init containers are done.
      if (initialized && !RuntimeInitDone(p)) continue;
    }
    if (!initialized) continue;
    for (const apis::Container& c : pod_spec.containers) {
      if (!RunsAsProcess(c)) continue;
      const std::string key = ns + "/" + pod + "/" + c.name;
      if (done(key, false)) continue;  // a Job's container that ended
      desired[key] = make(c, false);
    }
  }
  for (auto it = finished_.begin(); it != finished_.end();) {
    it = uids.count(it->second.pod_uid) ? std::next(it) : finished_.erase(it);
  }
  std::set<std::string> token_dirs;
  for (const auto& [key, c] : desired) token_dirs.insert(c.token_dir);
  for (auto it = tokens_written_.begin(); it != tokens_written_.end();) {
    if (token_dirs.count(it->first) || it->first.find("/cronjob-") != std::string::npos) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(it->first, ec);  // the pod went; its token is void anyway
    it = tokens_written_.erase(it);
  }
  if (kubelet_) kubelet_->SetPods(std::move(kubelet_pods));
  return desired;
}

void NodeRuntime::RecordPodEvent(const Container& c, std::string_view type, std::string_view reason,
                                 const std::string& message) {
  apis::ObjectReference pod;
  pod.api_version = "v1";
  pod.kind = "Pod";
  pod.name = c.pod;
  pod.namespace_ = c.ns;
  pod.uid = c.pod_uid;
  Status s = kubelet_events_.Record(pod, type, reason, message);
  if (!s.ok()) spdlog::debug("node: event on pod {}/{}: {}", c.ns, c.pod, s.ToString());
}

void NodeRuntime::OnExit(const std::string& key, Running& r, SystemTime now, bool* restart) {
  const Container& c = r.spec;
  Termination t;
  t.exit_code = r.proc->exit_code();
  t.reason = t.exit_code == 0 ? "Completed" : "Error";
  t.started = r.started;
  t.finished = now;
  if (t.exit_code != 0) t.message = LogTail(c.log_path);
  const bool ends = (c.init || c.restart_policy != "Always") && t.exit_code == 0;
  const bool gives_up =
      !c.init && t.exit_code != 0 &&
      (c.restart_policy == "Never" || (c.backoff_limit >= 0 && r.restarts >= c.backoff_limit));
  if (ends || gives_up) {
    ContainerState st;
    st.terminated = t;
    st.restarts = r.restarts;
    st.last_terminated = r.last;
    finished_[key] = {c.pod_uid, st, c.log_path};
    pods_dirty_ = true;  // the next container of the pod may start now
    *restart = false;
    spdlog::info("node: container {} ended with code {}", key, t.exit_code);
    return;
  }
  r.last = t;
  *restart = true;
  spdlog::warn("node: container {} exited with code {}; restarting", key, t.exit_code);
  RecordPodEvent(c, apis::kWarning, "BackOff",
                 "Back-off restarting failed container " + c.name + " in pod " + c.pod + "_" +
                     c.ns + "(" + c.pod_uid + ")");
}

void NodeRuntime::SyncPodStatuses(const std::vector<apis::Pod>& pods) {
  for (const apis::Pod& p : pods) {
    const std::string prefix = p.metadata.namespace_ + "/" + p.metadata.name + "/";
    const std::string& uid = p.metadata.uid;
    std::set<std::string> init_names;
    for (const apis::Container& c : p.spec.init_containers) init_names.insert(c.name);
    std::map<std::string, ContainerState> states, init_states;
    if (kubelet_) kubelet_->States(uid, &states, &init_states);
    auto slot = [&](const std::string& name) -> ContainerState& {
      return init_names.count(name) ? init_states[name] : states[name];
    };
    for (auto it = finished_.lower_bound(prefix);
         it != finished_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->second.pod_uid == uid) slot(it->first.substr(prefix.size())) = it->second.state;
    }
    for (auto it = running_.lower_bound(prefix);
         it != running_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->second.spec.pod_uid != uid) continue;
      ContainerState& st = slot(it->first.substr(prefix.size()));
      st.running = it->second.proc && it->second.proc->Running();
      st.not_ready = st.running && !it->second.probe.ready;
      st.started = it->second.started;
      st.restarts = it->second.restarts;
      st.last_terminated = it->second.last;
      if (!st.running && it->second.failures > 0) {
        st.waiting_reason = "CrashLoopBackOff";
        if (it->second.last) {
          st.waiting_message = "back-off restarting failed container " + it->second.spec.name;
        }
      }
    }
    // Only what changed goes out; what the node does not report is kept.
    const json patch = apis::MergePatchDiff(
        apis::ToJson(p.status), apis::ToJson(PodStatusFor(p, states, init_states, scope_)));
    if (patch.empty()) continue;
    Status s = PatchStatus(res::kPods, p.metadata, patch);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("node: pod {} status: {}", p.metadata.Key(), s.ToString());
    }
  }
  SyncJobStatuses(pods);
}

namespace {

bool HasCondition(const apis::JobStatus& status, std::string_view type) {
  return std::any_of(
      status.conditions.begin(), status.conditions.end(),
      [&](const apis::JobCondition& c) { return c.type == type && c.status == "True"; });
}

apis::JobCondition JobCondition(const char* type, const std::string& now) {
  apis::JobCondition c;
  c.type = type;
  c.status = "True";
  c.last_probe_time = now;
  c.last_transition_time = now;
  return c;
}

}  // namespace

void NodeRuntime::SyncJobStatuses(const std::vector<apis::Pod>& pods) {
  if (!jobs_) return;
  const std::string now = kube::FormatTime(clock_.Now());
  for (const apis::Job& job : jobs_->List()) {
    const std::string& uid = job.metadata.uid;
    const int64_t backoff = job.spec.backoff_limit.value_or(6);
    const bool replace = job.spec.template_.spec.restart_policy == "Never";
    int32_t active = 0, succeeded = 0, failed = 0;
    for (const apis::Pod& p : pods) {
      const auto& owners = p.metadata.owner_references;
      if (std::none_of(owners.begin(), owners.end(),
                       [&](const apis::OwnerReference& o) { return o.uid == uid; })) {
        continue;
      }
      if (p.status.phase == "Succeeded") {
        ++succeeded;
      } else if (p.status.phase == "Failed") {
        ++failed;
      } else if (p.metadata.deletion_timestamp.empty()) {
        ++active;
      }
    }
    apis::JobStatus status = job.status;
    status.active = active;
    status.succeeded = succeeded;
    status.failed = failed;
    if (active + succeeded + failed > 0 && status.start_time.empty()) status.start_time = now;
    if (!HasCondition(status, "Complete") && !HasCondition(status, "Failed")) {
      if (succeeded > 0) {
        status.conditions.push_back(JobCondition("Complete", now));
        status.completion_time = now;
      } else if (failed > 0 && (!replace || failed > backoff)) {
        apis::JobCondition c = JobCondition("Failed", now);
        c.reason = "BackoffLimitExceeded";
        c.message = "Job has reached the specified backoff limit";
        status.conditions.push_back(std::move(c));
      }
    }
    // A count back at 0 goes out as a removal (null), not as nothing.
    const json patch = apis::MergePatchDiff(apis::ToJson(job.status), apis::ToJson(status));
    if (patch.empty()) continue;
    Status s = PatchStatus(res::kJobs, job.metadata, patch);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("node: Job {} status: {}", job.metadata.Key(), s.ToString());
    }
  }
}

bool NodeRuntime::SyncContainers() {
  const auto& desired = desired_;
  bool changed = false;
  for (auto it = running_.begin(); it != running_.end();) {
    auto d = desired.find(it->first);
    if (d == desired.end() || d->second.spec_hash != it->second.spec.spec_hash) {
      spdlog::info("node: stopping container {}", it->first);
      if (it->second.proc) it->second.proc->Stop();
      it = running_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  const SystemTime now = clock_.Now();
  for (auto& [key, spec] : desired) {
    if (auto f = finished_.find(key); f != finished_.end() && f->second.pod_uid == spec.pod_uid) {
      continue;  // ended for good; the next pass drops it from desired_
    }
    Running& r = running_[key];
    if (!r.proc) r.spec = spec;
    if (r.proc && r.proc->Running()) {
      if (now - r.started > std::chrono::seconds(60)) r.failures = 0;
      // Renewed before it expires (a new start reads the new one).
      if (Status s = EnsureToken(r.spec); !s.ok()) {
        spdlog::warn("node: container {}: renewing its ServiceAccount token: {}", key,
                     s.ToString());
      }
      continue;
    }
    if (r.proc) {  // it exited: restart with backoff, as a kubelet does
      changed = true;
      bool restart = true;
      OnExit(key, r, now, &restart);
      if (!restart) {
        running_.erase(key);
        continue;
      }
      r.proc.reset();
      r.restart_at =
          now + std::min<Duration>(std::chrono::seconds(int64_t(1) << std::min(r.failures, 5)),
                                   std::chrono::seconds(30));
      ++r.failures;
      ++r.restarts;
    }
    if (now < r.restart_at) continue;
    if (Status s = EnsureToken(r.spec); !s.ok()) {
      spdlog::error("node: container {}: mounting its ServiceAccount token: {}", key, s.ToString());
      r.restart_at = now + std::chrono::seconds(5);
      continue;
    }
    std::error_code stale;
    fs::remove(r.spec.not_ready_file, stale);  // the last run's signal; this run writes its own
    auto proc = std::make_unique<ChildProcess>();
    if (Status s = proc->Start(r.spec.argv, r.spec.env, r.spec.log_path, /*clean_env=*/true);
        !s.ok()) {
      spdlog::error("node: starting container {}: {}", key, s.ToString());
      r.restart_at = now + std::chrono::seconds(5);
      continue;
    }
    spdlog::info("node: started container {} (pid {}), log {}", key, proc->pid(), r.spec.log_path);
    r.proc = std::move(proc);
    r.started = now;
    r.probe = ProbeStreak{.ready = !r.spec.readiness};
    r.next_probe =
        now + std::chrono::seconds(
                  r.spec.readiness ? r.spec.readiness->initial_delay_seconds.value_or(0) : 0);
    changed = true;
    // As kubelet, for the restore's containers (a sidecar restart per pod of
    // a thousand workloads would be a thousand events).
    if (r.spec.init || r.spec.restart_policy != "Always") {
      RecordPodEvent(r.spec, apis::kNormal, "Started", "Started container " + r.spec.name);
    }
  }
  return changed;
}

bool NodeRuntime::ProbeReadiness(SystemTime now) {
  bool changed = false;
  for (auto& [key, r] : running_) {
    if (!r.spec.readiness || !r.proc || !r.proc->Running() || now < r.next_probe) continue;
    const apis::Probe& probe = *r.spec.readiness;
    if (!HasProbeAction(probe)) {  // a grpc probe (not modelled): Ready while running
      changed = changed || !r.probe.ready;
      r.probe.ready = true;
      continue;
    }
    r.next_probe = now + ProbePeriod(probe);
    // A process runs in the node's network: the pod's address is the node's.
    HookTarget target;
    target.env = r.spec.env;
    target.named_ports = r.spec.ports;
    // Synchronous, on the loop, bounded by its timeout.
    Status s =
        RunProbe(probe, target, [&](const std::vector<std::string>& command, Duration timeout) {
          if (command.size() == 2 && command[0] == opts_.stash_binary &&
              command[1] == kube::kSidecarReadyCommand) {
            // Stash's own probe answered in process, as the command would with
            // the container's environment: no process per sidecar every period
            // (~20 ms each on a loaded node, on this loop).
            auto file = r.spec.env.find(kNotReadyFileEnv);
            return SidecarReadiness(file != r.spec.env.end() ? file->second : kSidecarNotReadyFile);
          }
          apis::Handler handler;
          handler.exec = apis::ExecAction{.command = command};
          return RunHandler(handler, target, timeout);
        });
    if (!r.probe.Record(s.ok(), probe)) continue;
    changed = true;
    spdlog::info("node: container {} is {}", key,
                 r.probe.ready ? "Ready" : "not Ready: " + s.message());
    if (!r.probe.ready) {
      RecordPodEvent(r.spec, apis::kWarning, "Unhealthy", "Readiness probe failed: " + s.message());
    }
  }
  return changed;
}

void NodeRuntime::Loop() {
  SystemTime next_full{};
  bool statuses_due = false;
  while (!stop_.load()) {
    try {
      const SystemTime now = clock_.Now();
      // A periodic pass as well: a missed event must not leave pods wrong for long.
      if (now >= next_full) jobs_dirty_ = true;
      if (pods_dirty_.exchange(false) || now >= next_full) {
        if (auto pods = SyncPods()) {
          pods_now_ = std::move(*pods);
          desired_ = DesiredContainers(pods_now_);
          statuses_due = true;
          next_full = now + std::chrono::seconds(10);
        } else {
          pods_dirty_ = true;  // informers not synced yet
        }
      }
      if (kubelet_ && now >= next_mode_check_) ChooseStashMode(/*at_start=*/false);
      if (kubelet_ && kubelet_->Changed()) {
        statuses_due = true;
        pods_dirty_ = true;  // an init container that ended lets stash's containers start
      }
      if (ProbeReadiness(now)) statuses_due = true;
      if (SyncContainers() || statuses_due) {
        PublishProcesses();
        SyncPodStatuses(pods_now_);
        statuses_due = false;
      }
      RefreshCronJobs();
      if (jobs_dirty_.exchange(false)) SyncCronJobJobs();
      SyncCronJobs();
    } catch (const std::exception& e) {
      spdlog::error("node: {}", e.what());
    }
    clock_.SleepUntil(clock_.Now() + std::chrono::milliseconds(200));
  }
}

// The last lines a failed container wrote (kubelet's terminationMessagePolicy
// FallbackToLogsOnError): what `kubectl describe pod` shows as its message.
std::string NodeRuntime::LogTail(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 2048);
  f.seekg(from);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (from > 0) {
    size_t nl = text.find('\n');
    text = nl == std::string::npos ? "" : text.substr(nl + 1);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  std::string out;
  for (size_t i = lines.size() > 4 ? lines.size() - 4 : 0; i < lines.size(); ++i) {
    out += (out.empty() ? "" : "\n") + lines[i];
  }
  return out;
}

}  // namespace stash::agent
