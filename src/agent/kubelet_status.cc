// Kubelet::StatesFor: what the runtime's listing says of a pod's containers,
// in the node's terms (pods.h ContainerState), for PodStatusFor.
#include <algorithm>

#include "stash/agent/kubelet.h"

namespace stash::agent {

namespace {

Termination Terminated(const ContainerInfo& c, const std::string& start_error) {
  Termination t;
  if (c.phase == ContainerPhase::kCreated) {  // created, never started
    t.exit_code = 128;
    t.reason = "StartError";
    t.message = start_error.empty() ? "the container could not be started" : start_error;
    t.started = c.created;
    t.finished = c.created;
    return t;
  }
  t.exit_code = c.exit_code;
  t.reason = c.exit_code == 0 ? "Completed" : "Error";
  t.started = c.started;
  t.finished = std::max(c.finished, c.started);
  return t;
}

}  // namespace

ContainerState Kubelet::StateOf(const apis::Pod& pod, const apis::Container& c, bool init) const {
  const ContainerInfo* latest = nullptr;
  const ContainerInfo* previous = nullptr;
  for (const ContainerInfo& i : listing_) {
    if (i.pod_uid != pod.metadata.uid || i.name != c.name || i.init != init) continue;
    if (!latest || i.attempt > latest->attempt) {
      previous = latest;
      latest = &i;
    } else if (!previous || i.attempt > previous->attempt) {
      previous = &i;
    }
  }
  auto start_error = [&](const ContainerInfo& i) {
    auto it = start_errors_.find(i.id);
    return it == start_errors_.end() ? std::string() : it->second;
  };
  ContainerState st;
  auto waiting = waiting_.find(Key(pod.metadata.uid, c.name));
  if (!latest) {
    if (waiting != waiting_.end()) {
      st.waiting_reason = waiting->second.reason;
      st.waiting_message = waiting->second.message;
    }
    return st;
  }
  st.container_id = "podman://" + latest->id;
  if (!latest->image_id.empty()) st.image_id = "sha256:" + latest->image_id;
  st.restarts = latest->attempt;
  if (latest->phase == ContainerPhase::kRunning) {
    st.running = true;
    st.started = latest->started;
    if (c.readiness_probe && !init) {  // not Ready until its probe says so
      auto r = readiness_.find(latest->id);
      st.not_ready = r == readiness_.end() || !r->second.verdict.ready;
    }
  } else if (waiting != waiting_.end()) {
    // Waiting to restart: the run that ended is the last state.
    st.waiting_reason = waiting->second.reason;
    st.waiting_message = waiting->second.message;
    st.last_terminated = Terminated(*latest, start_error(*latest));
  } else {
    st.terminated = Terminated(*latest, start_error(*latest));
  }
  if (previous && !st.last_terminated) {
    st.last_terminated = Terminated(*previous, start_error(*previous));
  }
  return st;
}

void Kubelet::StatesFor(const apis::Pod& pod, std::map<std::string, ContainerState>* states,
                        std::map<std::string, ContainerState>* init_states) const {
  for (const apis::Container& c : pod.spec.init_containers) {
    (*init_states)[c.name] = StateOf(pod, c, true);
  }
  for (const apis::Container& c : pod.spec.containers) (*states)[c.name] = StateOf(pod, c, false);
}

}  // namespace stash::agent
