#include "stash/agent/pods.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "stash/apis/client.h"
#include "stash/kube/events.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

namespace {

using kube::json;

// Kubernetes' alphabet for generated names: no vowels (no words), no
// look-alikes (0/1/3).
constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";

// The pod's controlling owner, if any.
const apis::OwnerReference* ControllerOf(const apis::Pod& pod) {
  return pod.metadata.ControllerRef();
}

bool JobFinished(const apis::Job& job) {
  return std::any_of(job.status.conditions.begin(), job.status.conditions.end(),
                     [](const apis::JobCondition& c) {
                       return (c.type == "Complete" || c.type == "Failed") && c.status == "True";
                     });
}

}  // namespace

std::string PodTemplateHash(const json& pod_template) {
  uint32_t h = 2166136261u;
  for (char c : pod_template.dump()) {
    h ^= uint8_t(c);
    h *= 16777619u;
  }
  std::string out;
  for (char d : std::to_string(h)) out += kAlphabet[size_t(d) % kAlphabet.size()];
  return out;
}

namespace {

// The node's address: its Node's InternalIP (node_heartbeat.cc), where the
// API server listens by default.
constexpr char kNodeIP[] = "127.0.0.1";

// [{"ip": <the node's address>}], the shape of podIPs and hostIPs.
std::vector<apis::PodIP> NodeIPs() {
  apis::PodIP ip;
  ip.ip = kNodeIP;
  return {ip};
}

apis::ContainerStateTerminated Terminated(const Termination& t) {
  apis::ContainerStateTerminated out;
  out.exit_code = t.exit_code;
  out.reason = t.reason;
  out.message = t.message;
  out.started_at = kube::FormatTime(t.started);
  out.finished_at = kube::FormatTime(t.finished);
  return out;
}

apis::ContainerState Waiting(std::string reason, std::string message = "") {
  apis::ContainerState s;
  s.waiting.emplace();
  s.waiting->reason = std::move(reason);
  s.waiting->message = std::move(message);
  return s;
}

bool Runs(const RunScope& scope, const apis::Container& c) {
  return scope.other_images || c.image == scope.stash_image;
}

// One container's status: the node's state for the containers it runs, "not
// run" for the others (`blocked`: its pod is still initialising).
apis::ContainerStatus ContainerStatusOf(const apis::Container& c, const ContainerState* st,
                                        bool blocked, const RunScope& scope) {
  apis::ContainerStatus out;
  out.name = c.name;
  out.image = c.image;
  out.started = false;
  if (!Runs(scope, c)) {
    std::string why = scope.not_run_message.empty()
                          ? "the embedded node runs only stash's own containers"
                          : "the embedded node cannot run containers: " + scope.not_run_message;
    out.state = Waiting(kNotRunReason, why + "; image " + c.image + " is not started");
    return out;
  }
  if (blocked || !st) {
    out.state = Waiting(blocked ? "PodInitializing" : "ContainerCreating");
    return out;
  }
  out.restart_count = st->restarts;
  out.image_id = st->image_id;
  out.container_id = st->container_id;
  if (st->last_terminated) out.last_state.terminated = Terminated(*st->last_terminated);
  if (st->running) {
    out.ready = !st->not_ready;
    out.started = true;
    out.state.running.emplace().started_at = kube::FormatTime(st->started);
  } else if (st->terminated) {
    out.state.terminated = Terminated(*st->terminated);
  } else {
    out.state = Waiting(st->waiting_reason.empty() ? "ContainerCreating" : st->waiting_reason,
                        st->waiting_message);
  }
  return out;
}

const ContainerState* Find(const std::map<std::string, ContainerState>& m,
                           const apis::Container& c) {
  auto it = m.find(c.name);
  return it == m.end() ? nullptr : &it->second;
}

apis::PodCondition Condition(const char* type, bool status, const std::string& at,
                             const char* reason) {
  apis::PodCondition c;
  c.type = type;
  c.status = status ? "True" : "False";
  c.last_transition_time = at;
  if (!status) c.reason = reason;
  return c;
}

}  // namespace

apis::PodStatus PodStatusFor(const apis::Pod& pod,
                             const std::map<std::string, ContainerState>& states,
                             const std::map<std::string, ContainerState>& init_states,
                             const RunScope& scope) {
  const std::string& created = pod.metadata.creation_timestamp;
  const std::string restart_policy =
      pod.spec.restart_policy.empty() ? "Always" : pod.spec.restart_policy;
  // The init containers it runs, in order; the pod is initialised once each exited 0.
  bool initialized = true;
  std::vector<apis::ContainerStatus> init_statuses;
  for (const apis::Container& c : pod.spec.init_containers) {
    const ContainerState* st = Find(init_states, c);
    init_statuses.push_back(ContainerStatusOf(c, st, !initialized, scope));
    if (!Runs(scope, c)) continue;
    if (!st || !st->terminated || st->terminated->exit_code != 0) initialized = false;
  }
  std::vector<apis::ContainerStatus> statuses;
  bool all_ready = initialized;
  bool all_done = initialized, any_failed = false, ever_ran = false, not_run = false;
  SystemTime ready_since{};
  for (const apis::Container& c : pod.spec.containers) {
    const ContainerState* st = Find(states, c);
    statuses.push_back(ContainerStatusOf(c, st, !initialized, scope));
    if (!initialized) continue;
    const bool ours = Runs(scope, c) && st;
    if (!Runs(scope, c)) not_run = true;
    if (!ours || !st->running || st->not_ready) all_ready = false;
    if (ours && st->running) ready_since = std::max(ready_since, st->started);
    // Running, as Kubernetes says it: bound, initialised, a container has run
    // (one restarting in CrashLoopBackOff keeps the pod Running).
    if (ours && (st->running || st->terminated || st->last_terminated)) ever_ran = true;
    if (!ours || !st->terminated) all_done = false;
    if (ours && st->terminated && st->terminated->exit_code != 0) any_failed = true;
  }
  // A pod with a container the node does not run is not called Running.
  std::string phase = all_ready || (ever_ran && !not_run) ? "Running" : "Pending";
  if (restart_policy != "Always" && initialized) {
    if (all_done) phase = any_failed ? "Failed" : "Succeeded";
    // With Never, a failed container is not restarted: the pod has failed.
    if (any_failed && restart_policy == "Never") phase = "Failed";
  }
  const std::string ready_time = all_ready ? kube::FormatTime(ready_since) : created;
  apis::PodStatus out = pod.status;  // what the node does not report stays
  out.phase = phase;
  out.host_ip = kNodeIP;
  out.host_ips = NodeIPs();
  out.start_time = created;
  out.conditions = {Condition("PodScheduled", true, created, ""),
                    Condition("Initialized", initialized, created, "ContainersNotInitialized"),
                    Condition("ContainersReady", all_ready, ready_time, "ContainersNotReady"),
                    Condition("Ready", all_ready, ready_time, "ContainersNotReady")};
  out.container_statuses = std::move(statuses);
  out.init_container_statuses = std::move(init_statuses);
  out.qos_class = "BestEffort";
  // The node runs pods in its own network namespace (podman's --network
  // host, or local processes), so a pod's address is the node's, as kubelet
  // reports it for hostNetwork pods; Services' Endpoints and `kubectl get pod
  // -o wide` show it. A pod none of whose containers the node runs has no
  // sandbox and no address.
  const auto runs = [&](const apis::Container& c) { return Runs(scope, c); };
  if (std::any_of(pod.spec.init_containers.begin(), pod.spec.init_containers.end(), runs) ||
      std::any_of(pod.spec.containers.begin(), pod.spec.containers.end(), runs)) {
    out.pod_ip = kNodeIP;
    out.pod_ips = NodeIPs();
  }
  return out;
}

PodKeeper::PodKeeper(const kube::Client& client, Random& random, std::string node_name)
    : client_(client), random_(random), node_name_(std::move(node_name)) {}

std::string PodKeeper::RandomSuffix() {
  std::string s;
  for (int i = 0; i < 5; ++i) s += kAlphabet[random_.Uniform(kAlphabet.size())];
  return s;
}

apis::Pod PodKeeper::NewPod(const apis::Job& job, const std::string& name) const {
  const apis::PodTemplateSpec& tmpl = job.spec.template_;
  apis::Pod pod;
  pod.api_version = "v1";
  pod.kind = "Pod";
  pod.metadata.name = name;
  pod.metadata.namespace_ = job.metadata.namespace_;
  pod.metadata.labels = tmpl.metadata.labels;
  for (const char* key : {"job-name", "batch.kubernetes.io/job-name"}) {
    pod.metadata.labels.insert_or_assign(key, job.metadata.name);
  }
  for (const char* key : {"controller-uid", "batch.kubernetes.io/controller-uid"}) {
    pod.metadata.labels.insert_or_assign(key, job.metadata.uid);
  }
  pod.metadata.annotations = tmpl.metadata.annotations;
  pod.metadata.owner_references = {apis::ControllerReference(job)};
  pod.spec = tmpl.spec;
  pod.spec.node_name = node_name_;
  return pod;
}

std::vector<apis::Pod> PodKeeper::Sync(const std::vector<apis::Job>& jobs,
                                       const std::vector<apis::Pod>& listed) {
  // What exists: the informer's view corrected by our own recent writes.
  std::map<std::string, apis::Pod> pods;  // ns/name
  std::set<std::string> listed_keys;
  for (const apis::Pod& p : listed) {
    std::string key = p.metadata.Key();
    listed_keys.insert(key);
    if (p.spec.node_name != node_name_) continue;
    if (deleted_.count(key)) continue;
    pods.emplace(key, p);
  }
  for (auto it = deleted_.begin(); it != deleted_.end();) {
    it = listed_keys.count(it->first) ? std::next(it) : deleted_.erase(it);
  }
  for (auto it = created_.begin(); it != created_.end();) {
    if (listed_keys.count(it->first)) {
      it = created_.erase(it);
    } else {
      pods.emplace(it->first, it->second);
      ++it;
    }
  }

  auto remove = [&](const apis::Pod& p) {
    const std::string key = p.metadata.Key();
    Status s = apis::Delete<apis::Pod>(client_, p.metadata.namespace_, p.metadata.name);
    if (!s.ok() && s.code() != Code::kNotFound) {
      spdlog::warn("node: deleting pod {}: {}", key, s.ToString());
      return;
    }
    spdlog::info("node: deleted pod {}", key);
    deleted_.insert_or_assign(key, true);
    created_.erase(key);
    pods.erase(key);
  };
  auto create = [&](const apis::Pod& pod) {
    const std::string key = pod.metadata.Key();
    auto made = apis::Create(client_, pod);
    if (!made.ok()) {
      if (made.status().code() != Code::kAlreadyExists) {
        spdlog::warn("node: creating pod {}: {}", key, made.status().ToString());
      }
      return;
    }
    spdlog::info("node: created pod {}", key);
    created_.insert_or_assign(key, *made);
    pods.insert_or_assign(key, std::move(*made));
  };

  // Controller uid → its pods, by name.
  std::map<std::string, std::vector<const apis::Pod*>> by_owner;
  for (const auto& [key, p] : pods) {
    const apis::OwnerReference* owner = ControllerOf(p);
    by_owner[owner ? owner->uid : ""].push_back(&p);
  }
  std::set<std::string> owners;
  std::vector<apis::Pod> to_remove, to_create;
  for (const apis::Job& job : jobs) {
    owners.insert(job.metadata.uid);
    auto it = by_owner.find(job.metadata.uid);
    const std::vector<const apis::Pod*> none;
    const std::vector<const apis::Pod*>& owned = it == by_owner.end() ? none : it->second;
    // One pod at a time until the Job has finished; a pod that failed for
    // good (restartPolicy Never) is kept and replaced up to backoffLimit.
    std::vector<const apis::Pod*> active;
    int64_t failed = 0;
    bool succeeded = false;
    for (const apis::Pod* p : owned) {
      const std::string& phase = p->status.phase;
      if (phase == "Failed") ++failed;
      if (phase == "Succeeded") succeeded = true;
      if (phase != "Succeeded" && phase != "Failed") active.push_back(p);
    }
    const bool done = JobFinished(job) || !job.metadata.deletion_timestamp.empty();
    if (done) {
      for (const apis::Pod* p : active) to_remove.push_back(*p);
    } else if (active.empty() && !succeeded && failed <= job.spec.backoff_limit.value_or(6)) {
      to_create.push_back(NewPod(job, job.metadata.name + "-" + RandomSuffix()));
    }
  }
  // Pods of Jobs that are gone (no garbage collector here). The node makes
  // only Jobs' pods: the cluster's controllers (stash server's
  // src/api/workloads.h, or kube-controller-manager) make and remove the
  // others.
  for (const auto& [uid, list] : by_owner) {
    if (owners.count(uid)) continue;
    for (const apis::Pod* p : list) {
      const apis::OwnerReference* owner = ControllerOf(*p);
      if (owner && owner->kind == "Job") to_remove.push_back(*p);
    }
  }
  for (const apis::Pod& p : to_remove) remove(p);
  for (const apis::Pod& p : to_create) create(p);
  std::vector<apis::Pod> out;
  out.reserve(pods.size());
  for (auto& [key, p] : pods) out.push_back(std::move(p));
  return out;
}

}  // namespace stash::agent
