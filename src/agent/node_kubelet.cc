#include "node_kubelet.h"

#include <spdlog/spdlog.h>

namespace stash::agent {

NodeKubelet::NodeKubelet(const kube::Client& client, ContainerRuntime& runtime, Clock& clock,
                         KubeletOptions opts)
    : sources_(client), runtime_(runtime), kubelet_(runtime, sources_, clock, std::move(opts)) {
  streams_ = std::make_unique<KubeletPodStreams>(kubelet_, runtime_, clock);
}

NodeKubelet::~NodeKubelet() { Stop(); }

bool NodeKubelet::Start(std::string* why) {
  Status s = runtime_.Check("");
  if (!s.ok()) {
    *why = s.message();
    return false;
  }
  stop_ = false;
  loop_ = std::thread([this] { Loop(); });
  return true;
}

void NodeKubelet::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

void NodeKubelet::SetPods(std::vector<apis::Pod> pods) {
  std::lock_guard lock(mu_);
  if (pods_ && *pods_ == pods) return;
  pods_ = std::move(pods);
  wake_ = true;
  cv_.notify_all();
}

void NodeKubelet::States(const std::string& uid, std::map<std::string, ContainerState>* states,
                         std::map<std::string, ContainerState>* init_states) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(uid);
  if (it == states_.end()) return;
  for (const auto& [k, v] : it->second.states) (*states)[k] = v;
  for (const auto& [k, v] : it->second.init_states) (*init_states)[k] = v;
}

void NodeKubelet::Loop() {
  while (!stop_) {
    std::optional<std::vector<apis::Pod>> pods;
    {
      std::lock_guard lock(mu_);
      pods = pods_;
      wake_ = false;
    }
    if (pods && kubelet_.Sync(*pods)) {
      std::map<std::string, PodStates> now;
      for (const apis::Pod& p : *pods) {
        PodStates& st = now[p.metadata.uid];
        kubelet_.StatesFor(p, &st.states, &st.init_states);
      }
      std::lock_guard lock(mu_);
      if (now != states_) {
        states_ = std::move(now);
        changed_ = true;
      }
    }
    // Exits and back-offs are seen by listing: every 2 s, or at once when
    // the pods change.
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(2), [&] { return wake_ || stop_.load(); });
  }
}

}  // namespace stash::agent
