#include "stash/agent/kubelet.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "stash/agent/probe.h"
#include "stash/kube/duration.h"
#include "stash/kube/events.h"

namespace stash::agent {

namespace {

bool IsWaiting(const ContainerInfo* c) { return c == nullptr; }

// The newest attempt of each container name, and the one before.
struct Attempts {
  const ContainerInfo* latest = nullptr;
  const ContainerInfo* previous = nullptr;
};

std::map<std::string, Attempts> ByName(const std::vector<const ContainerInfo*>& mine) {
  std::map<std::string, Attempts> out;
  for (const ContainerInfo* c : mine) {
    Attempts& a = out[c->name];
    if (!a.latest || c->attempt > a.latest->attempt) {
      a.previous = a.latest;
      a.latest = c;
    } else if (!a.previous || c->attempt > a.previous->attempt) {
      a.previous = c;
    }
  }
  return out;
}

bool Restarts(const std::string& policy, bool init, int exit_code) {
  if (policy == "Never") return false;
  if (init || policy == "OnFailure") return exit_code != 0;
  return true;  // Always (the default)
}

}  // namespace

Kubelet::Kubelet(ContainerRuntime& runtime, PodSources& sources, Clock& clock, KubeletOptions opts)
    : runtime_(runtime), sources_(sources), clock_(clock), opts_(std::move(opts)) {}

Kubelet::~Kubelet() {
  for (auto& [image, p] : pulls_) {
    if (p->worker.joinable()) p->worker.join();
  }
}

std::chrono::seconds Kubelet::RestartDelay(int attempt, SystemTime started, SystemTime finished) {
  // kubelet: no delay for the first restart, then 10 s doubling up to 5 min;
  // a container that ran 10 minutes starts the sequence again.
  if (attempt <= 0 || finished - started >= std::chrono::minutes(10)) return {};
  int64_t secs = int64_t(10) << std::min(attempt - 1, 5);
  return std::chrono::seconds(std::min<int64_t>(secs, 300));
}

bool Kubelet::Sync(const std::vector<apis::Pod>& pods) {
  auto listed = runtime_.ListContainers();
  if (!listed.ok()) {
    spdlog::warn("node: {}", listed.status().ToString());
    return false;
  }
  {
    std::lock_guard lock(mu_);
    listing_ = std::move(*listed);
  }
  std::map<std::string, std::vector<const ContainerInfo*>> by_pod;
  for (const ContainerInfo& c : listing_) by_pod[c.pod_uid].push_back(&c);
  std::set<std::string> keep;
  for (const apis::Pod& pod : pods) {
    keep.insert(pod.metadata.uid);
    SyncPod(pod, by_pod[pod.metadata.uid]);
  }
  RemoveStale(keep);
  // What this pass started is listed at the next one; list now so that the
  // statuses written after this pass already show it.
  if (auto again = runtime_.ListContainers(); again.ok()) {
    std::lock_guard lock(mu_);
    listing_ = std::move(*again);
  }
  for (const apis::Pod& pod : pods) ProbeReadiness(pod);
  std::erase_if(readiness_, [&](const auto& entry) {
    return std::none_of(listing_.begin(), listing_.end(), [&](const ContainerInfo& c) {
      return c.id == entry.first && c.phase == ContainerPhase::kRunning;
    });
  });
  return true;
}

// Exec in the container through the runtime, bounded by `timeout`: the
// command's exit code, or why it could not run.
Status Kubelet::ExecProbe(const std::string& id, const std::vector<std::string>& command,
                          std::chrono::seconds timeout) {
  auto proc = runtime_.Exec(id, command, /*tty=*/false, /*stdin=*/false);
  if (!proc.ok()) return proc.status();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string output, chunk;
  int stream = 0;
  while ((*proc)->Read(&chunk, &stream, deadline)) {
    if (output.size() < 1024) output += chunk;
    chunk.clear();
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    (*proc)->Kill();
    return TimeoutError("command timed out after " + std::to_string(timeout.count()) + "s");
  }
  auto code = (*proc)->Wait();
  if (!code.ok()) return code.status();
  if (*code == 0) return Status::Ok();
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return UnavailableError("command exited with " + std::to_string(*code) +
                          (output.empty() ? "" : ": " + output));
}

void Kubelet::ProbeReadiness(const apis::Pod& pod) {
  const SystemTime now = clock_.Now();
  for (const apis::Container& c : pod.spec.containers) {
    if (!c.readiness_probe) continue;
    const ContainerInfo* latest = nullptr;
    for (const ContainerInfo& i : listing_) {
      if (i.pod_uid != pod.metadata.uid || i.name != c.name || i.init) continue;
      if (!latest || i.attempt > latest->attempt) latest = &i;
    }
    if (!latest || latest->phase != ContainerPhase::kRunning) continue;
    const apis::Probe& probe = *c.readiness_probe;
    auto [it, fresh] = readiness_.try_emplace(latest->id);
    Readiness& r = it->second;
    if (fresh) {
      r.next = latest->started + std::chrono::seconds(probe.initial_delay_seconds.value_or(0));
    }
    if (!HasProbeAction(probe)) {  // a grpc probe (not modelled): Ready while running
      r.verdict.ready = true;
      continue;
    }
    if (now < r.next) continue;
    r.next = now + ProbePeriod(probe);
    // The pod runs in the node's network (host network): its address is
    // the node's, its ports the container's.
    HookTarget target;
    target.host = opts_.host_ip;
    target.named_ports = NamedPorts(c);
    const std::string id = latest->id;
    const Status s =
        RunProbe(probe, target, [&](const std::vector<std::string>& command, Duration timeout) {
          return ExecProbe(id, command, std::chrono::ceil<std::chrono::seconds>(timeout));
        });
    if (!r.verdict.Record(s.ok(), probe)) continue;
    spdlog::info("node: container {} of pod {}/{} is {}", c.name, pod.metadata.namespace_,
                 pod.metadata.name, r.verdict.ready ? "Ready" : "not Ready: " + s.message());
  }
}

void Kubelet::RemoveStale(const std::set<std::string>& keep) {
  std::set<std::string> stopped;
  for (const ContainerInfo& c : listing_) {
    if (keep.count(c.pod_uid)) continue;
    if (c.phase == ContainerPhase::kRunning) {
      spdlog::info("node: stopping container {} of pod {}/{}", c.name, c.ns, c.pod_name);
      (void)runtime_.StopContainer(c.id, std::chrono::seconds(30));
    }
    if (Status s = runtime_.RemoveContainer(c.id); !s.ok()) spdlog::warn("node: {}", s.ToString());
    start_errors_.erase(c.id);
    stopped.insert(c.pod_uid);
  }
  auto sandboxes = runtime_.ListSandboxes();
  if (sandboxes.ok()) {
    for (const SandboxInfo& s : *sandboxes) {
      if (keep.count(s.pod_uid)) continue;
      if (Status r = runtime_.RemoveSandbox(s.id); !r.ok()) spdlog::warn("node: {}", r.ToString());
      stopped.insert(s.pod_uid);
    }
  }
  for (const std::string& uid : stopped) {
    tokens_written_.erase(uid);
    for (auto it = waiting_.lower_bound(uid + "/");
         it != waiting_.end() && it->first.compare(0, uid.size() + 1, uid + "/") == 0;) {
      it = waiting_.erase(it);
    }
  }
}

void Kubelet::SyncPod(const apis::Pod& pod, std::vector<const ContainerInfo*>& mine) {
  const std::string& policy = pod.spec.restart_policy;
  auto attempts = ByName(mine);
  const SystemTime now = clock_.Now();
  // Exited attempts older than the previous one go (kubelet keeps one).
  for (const ContainerInfo* c : mine) {
    const Attempts& a = attempts[c->name];
    if (c != a.latest && c != a.previous) {
      (void)runtime_.RemoveContainer(c->id);
      start_errors_.erase(c->id);
    }
  }
  // Returns whether the container is done (exited and not to restart) and
  // successful; starts or restarts it when due.
  auto drive = [&](const apis::Container& c, bool init, bool* succeeded) -> bool {
    const std::string key = Key(pod.metadata.uid, c.name);
    const ContainerInfo* latest = attempts[c.name].latest;
    *succeeded = false;
    if (IsWaiting(latest)) {
      StartAttempt(pod, c, init, 0);
      return false;
    }
    if (latest->phase == ContainerPhase::kRunning) {
      waiting_.erase(key);
      return false;
    }
    int code = latest->exit_code;
    if (latest->phase == ContainerPhase::kCreated) code = 128;  // never started
    if (!Restarts(policy, init, code)) {
      waiting_.erase(key);
      *succeeded = code == 0;
      return true;
    }
    SystemTime finished = latest->finished == SystemTime{} ? latest->created : latest->finished;
    // One that never started ran for no time (not "since 1970").
    SystemTime started = latest->started == SystemTime{} ? finished : latest->started;
    auto delay = RestartDelay(latest->attempt, started, finished);
    if (now < finished + delay) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(delay).count();
      waiting_[key] = {"CrashLoopBackOff",
                       "back-off " + kube::FormatGoDuration(std::chrono::seconds(left)) +
                           " restarting failed container=" + c.name + " pod=" + pod.metadata.name +
                           "_" + pod.metadata.namespace_ + "(" + pod.metadata.uid + ")"};
      return false;
    }
    StartAttempt(pod, c, init, latest->attempt + 1);
    return false;
  };
  for (const apis::Container& c : pod.spec.init_containers) {
    bool ok = false;
    bool done = drive(c, true, &ok);
    if (!done || !ok) return;  // running, waiting, restarting or failed for good
  }
  for (const apis::Container& c : pod.spec.containers) {
    bool ok = false;
    (void)drive(c, false, &ok);
  }
}

bool Kubelet::StartAttempt(const apis::Pod& pod, const apis::Container& c, bool init, int attempt) {
  const std::string key = Key(pod.metadata.uid, c.name);
  if (!ImageReady(key, c)) return false;
  auto spec = BuildSpec(pod, c, init, attempt);
  if (!spec.ok()) {
    waiting_[key] = {"CreateContainerConfigError", spec.status().message()};
    return false;
  }
  auto started = runtime_.StartContainer(*spec);
  if (!started.ok()) {
    spdlog::warn("node: {}", started.status().ToString());
    // The created container (if any) is listed as never started: StartError.
    auto listed = runtime_.ListContainers();
    if (listed.ok()) {
      for (const ContainerInfo& i : *listed) {
        if (i.pod_uid == pod.metadata.uid && i.name == c.name && i.attempt == attempt) {
          start_errors_[i.id] = started.status().message();
          return false;
        }
      }
    }
    waiting_[key] = {"RunContainerError", started.status().message()};
    return false;
  }
  waiting_.erase(key);
  spdlog::info("node: started container {} of pod {}/{} (attempt {})", c.name,
               pod.metadata.namespace_, pod.metadata.name, attempt);
  return true;
}

bool Kubelet::ImageReady(const std::string& key, const apis::Container& c) {
  if (c.image.empty()) {
    waiting_[key] = {"InvalidImageName", "the container has no image"};
    return false;
  }
  auto& slot = pulls_[c.image];
  if (!slot) slot = std::make_unique<Pull>();
  Pull& p = *slot;
  if (p.running) {
    waiting_[key] = {"ContainerCreating", ""};
    return false;
  }
  if (p.worker.joinable()) p.worker.join();
  auto id = runtime_.ImageId(c.image);
  if (id.ok()) {
    p.failures = 0;
    return true;
  }
  if (id.status().code() != Code::kNotFound) {
    waiting_[key] = {"ErrImagePull", id.status().message()};
    return false;
  }
  if (c.image_pull_policy == "Never") {
    waiting_[key] = {"ErrImageNeverPull",
                     "Container image \"" + c.image +
                         "\" is not present with pull policy of Never (load it with `stash node "
                         "load-image FILE`)"};
    return false;
  }
  const SystemTime now = clock_.Now();
  if (p.failures > 0 && now < p.retry_at) {
    // As kubelet: ErrImagePull with the engine's message right after the
    // failed pull, ImagePullBackOff while waiting for the next one.
    if (now < p.failed_at + std::chrono::seconds(5)) {
      waiting_[key] = {"ErrImagePull", p.last.message()};
    } else {
      waiting_[key] = {"ImagePullBackOff",
                       "Back-off pulling image \"" + c.image + "\": " + p.last.message()};
    }
    return false;
  }
  p.running = true;
  waiting_[key] = {"ContainerCreating", ""};
  p.worker = std::thread([this, &p, image = c.image] {
    Status s = runtime_.PullImage(image, opts_.pull_timeout);
    // The loop reads these after `running` turns false.
    p.last = s;
    if (s.ok()) {
      p.failures = 0;
    } else {
      ++p.failures;
      p.failed_at = clock_.Now();
      p.retry_at =
          p.failed_at + std::chrono::seconds(std::min(10 << std::min(p.failures - 1, 5), 300));
      spdlog::warn("node: {}", s.ToString());
    }
    p.running = false;
  });
  return false;
}

Result<Kubelet::Found> Kubelet::FindContainer(const std::string& ns, const std::string& pod,
                                              const std::string& container, bool previous) const {
  std::lock_guard lock(mu_);
  const ContainerInfo* latest = nullptr;
  const ContainerInfo* prev = nullptr;
  for (const ContainerInfo& c : listing_) {
    if (c.ns != ns || c.pod_name != pod || c.name != container) continue;
    if (!latest || c.attempt > latest->attempt) {
      prev = latest;
      latest = &c;
    } else if (!prev || c.attempt > prev->attempt) {
      prev = &c;
    }
  }
  const ContainerInfo* c = previous ? prev : latest;
  if (!c) {
    if (previous) {
      return InvalidError("previous terminated container \"" + container + "\" in pod \"" + pod +
                          "\" not found");
    }
    return InvalidError("container \"" + container + "\" in pod \"" + pod +
                        "\" is waiting to start: no container has run yet");
  }
  return Found{c->id, c->log_path, c->phase == ContainerPhase::kRunning};
}

}  // namespace stash::agent
