#include "stash/agent/node.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "node_heartbeat.h"
#include "node_informer.h"
#include "node_kubelet.h"
#include "node_streams.h"
#include "stash/agent/kubelet.h"
#include "stash/agent/repository.h"
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

std::string NsOf(const json& o) { return o.value("/metadata/namespace"_json_pointer, ""); }
std::string NameOf(const json& o) { return o.value("/metadata/name"_json_pointer, ""); }

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
  pvcs_ = NodeInformer::Of<apis::PersistentVolumeClaim>(
      client_, clock_, [this](const std::string& type, const json& obj) { OnPvc(type, obj); });
  pods_dirty_ = true;
  crons_dirty_ = true;
  triggers_ = std::make_unique<TriggerWorkers>(4);
  auto pods_changed = [this](const std::string&, const json&) { pods_dirty_ = true; };
  cronjobs_ = NodeInformer::Of<apis::CronJob>(
      client_, clock_, [this](const std::string&, const json&) { crons_dirty_ = true; });
  pods_ = NodeInformer::Of<apis::Pod>(client_, clock_, pods_changed);
  // Deployments', StatefulSets' and DaemonSets' pods are the cluster's
  // controllers' (src/api/workloads.h); the node runs those bound to it.
  workloads_.push_back(NodeInformer::Of<apis::Job>(client_, clock_, pods_changed));
  jobs_ = workloads_.back().get();
  StartKubelet();
  pvcs_->Start();
  heartbeat_ = std::make_unique<NodeHeartbeat>(client_, clock_, opts_.node_name, opts_.data_dir);
  heartbeat_->Start();
  cronjobs_->Start();
  pods_->Start();
  for (auto& w : workloads_) w->Start();
  loop_ = std::thread([this] { Loop(); });
}

void NodeRuntime::Stop() {
  stop_ = true;
  if (loop_.joinable()) loop_.join();
  streams_.reset();
  if (kubelet_) kubelet_->Stop();
  kubelet_.reset();
  triggers_.reset();
  heartbeat_.reset();
  if (pvcs_) pvcs_->Stop();
  if (cronjobs_) cronjobs_->Stop();
  if (pods_) pods_->Stop();
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
                                       const json& volume) const {
  if (volume.contains("persistentVolumeClaim")) {
    return VolumeDir(opts_.data_dir, ns, volume["persistentVolumeClaim"].value("claimName", ""));
  }
  if (volume.contains("hostPath")) return volume["hostPath"].value("path", "");
  if (volume.contains("emptyDir")) {
    return opts_.data_dir + "/emptydir/" + ns + "/" + pod + "/" + volume.value("name", "");
  }
  return "";
}

Status NodeRuntime::PatchStatus(const kube::Resource& r, const json& obj, const json& status) {
  json patch = {{"status", status}};
  auto p = client_.Patch(r, NsOf(obj), NameOf(obj), kube::PatchType::kMerge, patch, "status");
  if (p.ok()) return Status::Ok();
  if (p.status().code() != Code::kNotFound && p.status().code() != Code::kUnsupported) {
    return p.status();
  }
  // A server without the status subresource for this kind takes it on the object.
  auto q = client_.Patch(r, NsOf(obj), NameOf(obj), kube::PatchType::kMerge, patch);
  return q.ok() ? Status::Ok() : q.status();
}

void NodeRuntime::OnPvc(const std::string& type, const json& pvc) {
  // Binding, provisioning and reclaim are the API server's (its volume
  // controller makes and removes <volumes>/<ns>/<claim>); the node only makes
  // sure a bound claim's directory is there to mount.
  if (type == "DELETED" || pvc.contains("/metadata/deletionTimestamp"_json_pointer)) return;
  if (pvc.value("/status/phase"_json_pointer, "") != "Bound") return;
  std::string dir = VolumeDir(opts_.data_dir, NsOf(pvc), NameOf(pvc));
  std::error_code ec;
  // 0777 as the API server's provisioner makes it: pods run as any user.
  if (fs::create_directories(dir, ec) && !ec) fs::permissions(dir, fs::perms::all, ec);
  if (ec) {
    spdlog::error("creating the directory of PVC {}/{} at {}: {}", NsOf(pvc), NameOf(pvc), dir,
                  ec.message());
  }
}

NodeRuntime::Container NodeRuntime::MakeContainer(const std::string& ns, const std::string& pod,
                                                  const std::string& token_key,
                                                  const json& pod_spec, const json& c,
                                                  const std::string& log_name) {
  Container out;
  // What a container runtime starts with: PATH and the host name.
  out.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  out.env["HOSTNAME"] = pod;
  out.env["HOME"] = opts_.data_dir + "/pods/" + token_key + "/home";
  out.not_ready_file = opts_.data_dir + "/pods/" + token_key + "/not-ready";
  out.env[kNotReadyFileEnv] = out.not_ready_file;
  std::error_code home_ec;
  fs::create_directories(out.env["HOME"], home_ec);
  for (const std::string& name : opts_.pass_env) {
    if (const char* v = std::getenv(name.c_str())) out.env[name] = v;  // the spec's env wins
  }
  out.argv.push_back(opts_.stash_binary);
  json command = c.value("command", json::array());
  for (size_t i = 1; i < command.size(); ++i) out.argv.push_back(command[i].get<std::string>());
  for (const json& a : c.value("args", json::array())) out.argv.push_back(a.get<std::string>());
  for (const json& e : c.value("env", json::array())) {
    std::string name = e.value("name", "");
    if (e.contains("value")) {
      out.env[name] = e.value("value", "");
      continue;
    }
    std::string field = e.value("/valueFrom/fieldRef/fieldPath"_json_pointer, "");
    if (field == "metadata.name")
      out.env[name] = pod;
    else if (field == "metadata.namespace")
      out.env[name] = ns;
    else if (field == "spec.nodeName")
      out.env[name] = opts_.node_name;
  }
  PathMap map;
  std::map<std::string, json> volumes;
  for (const json& v : pod_spec.value("volumes", json::array())) volumes[v.value("name", "")] = v;
  for (const json& m : c.value("volumeMounts", json::array())) {
    auto it = volumes.find(m.value("name", ""));
    if (it == volumes.end()) continue;
    std::string dir = VolumeHostDir(ns, pod, it->second);
    if (dir.empty()) continue;
    std::error_code ec;
    // An emptyDir is 0777 when made, as kubelet makes it (Kubelet::Volumes):
    // the pod's other containers may run as any user.
    if (it->second.contains("emptyDir") && fs::create_directories(dir, ec) && !ec) {
      fs::permissions(dir, fs::perms::all, ec);
    }
    std::string sub = m.value("subPath", "");
    if (!sub.empty()) dir += "/" + sub;
    fs::create_directories(dir, ec);
    map.Add(m.value("mountPath", ""), dir);
  }
  // In-cluster configuration, as kubelet gives it: the API server's address
  // and, unless the pod opts out, its ServiceAccount's token.
  out.env["KUBERNETES_SERVICE_HOST"] = api_host_;
  out.env["KUBERNETES_SERVICE_PORT"] = std::to_string(api_port_);
  out.env["KUBERNETES_SERVICE_PORT_HTTPS"] = std::to_string(api_port_);
  if (pod_spec.value("automountServiceAccountToken", true)) {
    out.account = pod_spec.value("serviceAccountName", pod_spec.value("serviceAccount", ""));
    if (out.account.empty()) out.account = "default";
    // Not the runtime's kube-api-access of the same pod: its tokens last an
    // hour and are renewed for readers that read them again.
    out.token_dir = opts_.data_dir + "/pods/" + token_key + "/volumes/stash-api-access";
    map.Add(kServiceAccountMountPath, out.token_dir);
    out.env["STASH_SERVICEACCOUNT_DIR"] = out.token_dir;
  }
  out.env[kPathMapEnv] = map.Serialize();
  out.env[kDataDirEnv] = opts_.data_dir;
  out.env["POD_NAMESPACE"] = ns;
  if (!out.env.count("POD_NAME")) out.env["POD_NAME"] = pod;
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

std::optional<std::vector<json>> NodeRuntime::SyncPods() {
  // Before every informer has listed, a missing pod or workload may only be
  // not seen yet; acting then would delete or duplicate pods.
  if (!pods_->synced()) return std::nullopt;
  std::vector<json> workloads;
  for (auto& inf : workloads_) {
    if (!inf->synced()) return std::nullopt;
    for (json& w : inf->List()) workloads.push_back(std::move(w));
  }
  return pod_keeper_.Sync(workloads, pods_->List());
}

std::map<std::string, NodeRuntime::Container> NodeRuntime::DesiredContainers(
    const std::vector<json>& pods) {
  std::map<std::string, int64_t> backoff_limits;  // Job uid → spec.backoffLimit
  if (jobs_) {
    for (const json& j : jobs_->List()) {
      backoff_limits[j.value("/metadata/uid"_json_pointer, "")] =
          j.value("/spec/backoffLimit"_json_pointer, int64_t{6});
    }
  }
  std::map<std::string, Container> desired;
  std::set<std::string> uids;
  std::vector<apis::Pod> kubelet_pods;
  for (const json& p : pods) {
    if (p.contains("/metadata/deletionTimestamp"_json_pointer)) continue;
    const std::string ns = NsOf(p), pod = NameOf(p);
    const std::string uid = p.value("/metadata/uid"_json_pointer, "");
    uids.insert(uid);
    const json pod_spec = p.value("spec", json::object());
    const std::string policy = pod_spec.value("restartPolicy", "Always");
    int64_t backoff = -1;
    for (const json& o : p.value("/metadata/ownerReferences"_json_pointer, json::array())) {
      if (o.value("kind", "") != "Job") continue;
      auto it = backoff_limits.find(o.value("uid", ""));
      backoff = it == backoff_limits.end() ? 6 : it->second;
    }
    auto done = [&](const std::string& key, bool success_only) {
      auto f = finished_.find(key);
      if (f == finished_.end() || f->second.pod_uid != uid) return false;
      return !success_only || f->second.state.terminated->exit_code == 0;
    };
    auto make = [&](const json& c, bool init) {
      const std::string name = c.value("name", "");
      Container k = MakeContainer(ns, pod, uid, pod_spec, c, ns + "_" + pod + "_" + name);
      k.ns = ns;
      k.pod = pod;
      k.pod_uid = uid;
      k.name = name;
      k.init = init;
      k.restart_policy = policy;
      k.backoff_limit = backoff;
      k.spec_hash += "\n" + uid;  // a replaced pod (same name) starts afresh
      return k;
    };
    // Stash's init containers, one at a time, in order: the next (or the
    // pod's containers) only once the previous exited 0.
    bool initialized = true;
    for (const json& c : pod_spec.value("initContainers", json::array())) {
      if (c.value("image", "") != opts_.stash_image) continue;  // not run, not waited for
      const std::string key = ns + "/" + pod + "/" + c.value("name", "");
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
    for (const json& c : pod_spec.value("containers", json::array())) {
      if (c.value("image", "") != opts_.stash_image) continue;
      const std::string key = ns + "/" + pod + "/" + c.value("name", "");
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

void NodeRuntime::SyncPodStatuses(const std::vector<json>& pods) {
  for (const json& p : pods) {
    const std::string prefix = NsOf(p) + "/" + NameOf(p) + "/";
    const std::string uid = p.value("/metadata/uid"_json_pointer, "");
    std::set<std::string> init_names;
    for (const json& c : p.value("/spec/initContainers"_json_pointer, json::array())) {
      init_names.insert(c.value("name", ""));
    }
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
      st.not_ready = st.running && fs::exists(it->second.spec.not_ready_file);
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
    json status = PodStatusFor(p, states, init_states, scope_);
    const json current = p.value("status", json::object());
    bool same = true;
    for (const auto& [k, v] : status.items()) {
      if (!current.contains(k) || current[k] != v) same = false;
    }
    if (same) continue;
    Status s = PatchStatus(res::kPods, p, status);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("node: pod {}/{} status: {}", NsOf(p), NameOf(p), s.ToString());
    }
  }
  SyncJobStatuses(pods);
}

void NodeRuntime::SyncJobStatuses(const std::vector<json>& pods) {
  if (!jobs_) return;
  const std::string now = kube::FormatTime(clock_.Now());
  for (const json& job : jobs_->List()) {
    const std::string uid = job.value("/metadata/uid"_json_pointer, "");
    const int64_t backoff = job.value("/spec/backoffLimit"_json_pointer, int64_t{6});
    const bool replace =
        job.value("/spec/template/spec/restartPolicy"_json_pointer, "OnFailure") == "Never";
    int64_t active = 0, succeeded = 0, failed = 0;
    std::string failed_message;
    for (const json& p : pods) {
      bool ours = false;
      for (const json& o : p.value("/metadata/ownerReferences"_json_pointer, json::array())) {
        ours = ours || o.value("uid", "") == uid;
      }
      if (!ours) continue;
      const std::string phase = p.value("/status/phase"_json_pointer, "");
      if (phase == "Succeeded") {
        ++succeeded;
      } else if (phase == "Failed") {
        ++failed;
      } else if (!p.contains("/metadata/deletionTimestamp"_json_pointer)) {
        ++active;
      }
    }
    const json current = job.value("status", json::object());
    json status = current;
    status["active"] = active;
    status["succeeded"] = succeeded;
    status["failed"] = failed;
    if (active + succeeded + failed > 0 && !current.contains("startTime"))
      status["startTime"] = now;
    json conditions = current.value("conditions", json::array());
    auto has = [&](const char* type) {
      return std::any_of(conditions.begin(), conditions.end(), [&](const json& c) {
        return c.value("type", "") == type && c.value("status", "") == "True";
      });
    };
    if (!has("Complete") && !has("Failed")) {
      if (succeeded > 0) {
        conditions.push_back({{"type", "Complete"},
                              {"status", "True"},
                              {"lastProbeTime", now},
                              {"lastTransitionTime", now}});
        status["completionTime"] = now;
      } else if (failed > 0 && (!replace || failed > backoff)) {
        conditions.push_back({{"type", "Failed"},
                              {"status", "True"},
                              {"reason", "BackoffLimitExceeded"},
                              {"message", "Job has reached the specified backoff limit"},
                              {"lastProbeTime", now},
                              {"lastTransitionTime", now}});
      }
    }
    if (!conditions.empty()) status["conditions"] = conditions;
    if (status == current) continue;
    Status s = PatchStatus(res::kJobs, job, status);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("node: Job {}/{} status: {}", NsOf(job), NameOf(job), s.ToString());
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
    changed = true;
    // As kubelet, for the restore's containers (a sidecar restart per pod of
    // a thousand workloads would be a thousand events).
    if (r.spec.init || r.spec.restart_policy != "Always") {
      RecordPodEvent(r.spec, apis::kNormal, "Started", "Started container " + r.spec.name);
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
      if (kubelet_ && kubelet_->Changed()) {
        statuses_due = true;
        pods_dirty_ = true;  // an init container that ended lets stash's containers start
      }
      if (SyncContainers() || statuses_due) {
        PublishProcesses();
        SyncPodStatuses(pods_now_);
        statuses_due = false;
      }
      if (crons_dirty_.exchange(false)) RefreshCronJobs();
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
