// NodeRuntime's side of the container runtime (node.h): which part of a pod
// it runs, and when stash's processes of that pod may start.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <functional>

#include "node_kubelet.h"
#include "node_streams.h"
#include "stash/agent/node.h"

namespace stash::agent {

namespace {

// "host:port" of an https:// URL; IPv6 hosts lose their brackets.
void SplitServer(const std::string& url, std::string* host, int* port) {
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  *port = 443;
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    *port = std::atoi(rest.substr(colon + 1).c_str());
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 2 && rest.front() == '[') rest = rest.substr(1, rest.size() - 2);
  *host = rest;
}

}  // namespace

void NodeRuntime::StartKubelet() {
  scope_ = RunScope{};
  scope_.stash_image = opts_.stash_image;
  SplitServer(client_.config().server, &api_host_, &api_port_);
  struct Publish {  // streams_ whatever way this returns
    NodeRuntime* n;
    ~Publish() {
      n->streams_ = std::make_unique<NodeStreams>(n->kubelet_.get(), n->scope_.not_run_message);
    }
  } publish{this};
  if (!opts_.runtime) return;
  KubeletOptions ko;
  ko.data_dir = opts_.data_dir;
  ko.pods_dir = opts_.data_dir + "/pods";
  ko.node_name = opts_.node_name;
  ko.api_host = api_host_;
  ko.api_port = api_port_;
  ko.ca_pem = client_.config().ca_pem;
  ko.stash_image = opts_.stash_image;
  for (const std::string& name : opts_.pass_env) {
    if (const char* v = std::getenv(name.c_str())) ko.stash_env.emplace_back(name, v);
  }
  kubelet_ = std::make_unique<NodeKubelet>(client_, *opts_.runtime, clock_, ko);
  std::string why;
  if (!kubelet_->Start(&why)) {
    scope_.not_run_message = opts_.runtime->Describe() + ": " + why;
    spdlog::warn("node: containers of images other than stash's will not run: {}",
                 scope_.not_run_message);
    kubelet_.reset();
    return;
  }
  scope_.other_images = true;
  spdlog::info("node: running pods' containers with {}", opts_.runtime->Describe());
}

api::PodStreams* NodeRuntime::streams() { return streams_.get(); }

void NodeRuntime::PublishProcesses() {
  std::map<std::string, NodeStreams::Process> now;
  for (const auto& [key, r] : running_) {
    now[key] = {r.spec.pod_uid, r.spec.log_path, r.proc && r.proc->Running()};
  }
  // Ended ones (an init container, a Job's) keep their log while the pod is there.
  for (const auto& [key, f] : finished_) {
    if (!now.count(key)) now[key] = {f.pod_uid, f.log_path, false};
  }
  streams_->Publish(std::move(now));
}

apis::Pod NodeRuntime::KubeletPod(const apis::Pod& pod, bool stash_initialized) const {
  apis::Pod p = pod;
  // The status and resourceVersion change with every status write; the
  // runtime's loop only needs waking when what it runs changes.
  p.status = {};
  p.metadata.resource_version.clear();
  for (std::vector<apis::Container>* list : {&p.spec.init_containers, &p.spec.containers}) {
    std::erase_if(*list,
                  [&](const apis::Container& c) { return !stash_initialized || RunsAsProcess(c); });
  }
  return p;
}

bool NodeRuntime::RuntimeInitDone(const apis::Pod& pod) const {
  std::map<std::string, ContainerState> states, init_states;
  kubelet_->States(pod.metadata.uid, &states, &init_states);
  for (const apis::Container& c : pod.spec.init_containers) {
    if (RunsAsProcess(c)) continue;
    auto it = init_states.find(c.name);
    if (it == init_states.end() || !it->second.terminated ||
        it->second.terminated->exit_code != 0) {
      return false;
    }
  }
  return true;
}

bool NodeRuntime::RunsAsProcess(const apis::Container& c) const {
  return !stash_in_runtime_ && c.image == opts_.stash_image;
}

void NodeRuntime::ChooseStashMode(bool at_start) {
  next_mode_check_ = clock_.Now() + std::chrono::seconds(30);
  bool in_runtime = false;
  std::string why;
  if (!kubelet_) {
    why = opts_.runtime
              ? "the container runtime cannot run containers (" + scope_.not_run_message + ")"
              : "no container runtime is configured";
  } else {
    auto id = opts_.runtime->ImageId(opts_.stash_image);
    if (id.ok()) {
      in_runtime = true;
    } else if (id.status().code() == Code::kNotFound) {
      why = "image " + opts_.stash_image + " is not in the local image store of " +
            opts_.runtime->Describe() + " (scripts/image.sh --tag " + opts_.stash_image +
            " builds it)";
    } else if (!at_start) {
      return;  // the engine did not answer: keep the mode we have
    } else {
      why = id.status().message();
    }
  }
  if (!at_start && in_runtime == stash_in_runtime_) return;
  stash_in_runtime_ = in_runtime;
  pods_dirty_ = true;  // the processes stop, the runtime takes their containers (or back)
  if (in_runtime) {
    spdlog::info("node: stash's own containers (image {}) run in {}: the image is in its store",
                 opts_.stash_image, opts_.runtime->Describe());
  } else {
    spdlog::info("node: stash's own containers (image {}) run as local processes: {}",
                 opts_.stash_image, why);
  }
}

}  // namespace stash::agent
