#include "stash/agent/podman.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "stash/agent/process.h"
#include "stash/apis/codec.h"

namespace stash::agent {

namespace {

using apis::Emit;
using apis::Extra;
using apis::json;
using apis::Path;
namespace fs = std::filesystem;

// One entry of `podman ps --format json` (podman's ListContainer), the
// members the node reads; the rest stays in extra.
struct PodmanContainer {
  std::string id;
  std::map<std::string, std::string> labels;
  std::string state;  // created, running, exited, stopped, ...
  int32_t exit_code = 0;
  int64_t created = 0, started_at = 0, exited_at = 0;  // unix seconds; <= 0: never
  std::string image, image_id;
  bool is_infra = false;
  STASH_APIS_STRUCT(PodmanContainer);
};
STASH_APIS_DECLARE_CODEC(PodmanContainer);

template <class V>
void PodmanContainer::Visit(V& v) {
  v("Id", id);
  v("Labels", labels);
  v("State", state);
  v("ExitCode", exit_code);
  v("Created", created);
  v("StartedAt", started_at);
  v("ExitedAt", exited_at);
  v("Image", image);
  v("ImageID", image_id);
  v("IsInfra", is_infra);
}
using apis::DecodeStruct;
using apis::EncodeStruct;
using apis::IsZeroStruct;
STASH_APIS_DEFINE_CODEC(PodmanContainer);

// One entry of `podman pod ps --format json` (podman's ListPodsReport).
struct PodmanPod {
  std::string id;
  std::map<std::string, std::string> labels;
  STASH_APIS_STRUCT(PodmanPod);
};
STASH_APIS_DECLARE_CODEC(PodmanPod);

template <class V>
void PodmanPod::Visit(V& v) {
  v("Id", id);
  v("Labels", labels);
}
STASH_APIS_DEFINE_CODEC(PodmanPod);

// podman's JSON list printed by `what`, decoded; errors name the member.
template <class T>
Result<std::vector<T>> DecodeList(const std::string& text, const std::string& what) {
  json list = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded()) return UnavailableError(what + ": not JSON");
  if (list.is_null()) return std::vector<T>{};  // nothing listed
  auto decoded = apis::FromJson<std::vector<T>>(list);
  if (!decoded.ok()) return UnavailableError(what + ": " + decoded.status().message());
  return decoded;
}

// Labels, as the CRI runtimes name theirs where Kubernetes has a name.
constexpr const char* kNodeLabel = "io.stash.node";
constexpr const char* kUidLabel = "io.kubernetes.pod.uid";
constexpr const char* kNsLabel = "io.kubernetes.pod.namespace";
constexpr const char* kPodLabel = "io.kubernetes.pod.name";
constexpr const char* kNameLabel = "io.kubernetes.container.name";
constexpr const char* kAttemptLabel = "io.stash.attempt";
constexpr const char* kInitLabel = "io.stash.init";
constexpr const char* kHashLabel = "io.stash.hash";
constexpr const char* kLogLabel = "io.stash.log";

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// podman's messages end with a newline and sometimes repeat "Error: ".
std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t last = s.rfind("\nError: ");
  if (last == std::string::npos) return s;
  // "internal libpod error" says nothing: the runtime's own complaint is in
  // the level=error lines before it (runc's "sethostname: invalid argument").
  std::string why;
  size_t pos = 0;
  while ((pos = s.find("level=error msg=", pos)) != std::string::npos && pos < last) {
    size_t eol = s.find('\n', pos);
    why += (why.empty() ? "" : "; ") + s.substr(pos + 16, eol - pos - 16);
    pos = eol;
  }
  std::string tail = s.substr(last + 1);
  return why.empty() ? tail : tail + " (" + why + ")";
}

SystemTime FromUnix(int64_t secs) {
  if (secs <= 0) return SystemTime{};
  return SystemTime{std::chrono::seconds(secs)};
}

std::string Label(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it != labels.end() ? it->second : "";
}

// A limit for containers: the hard limit this process has (podman's
// defaults exceed it here and runc then refuses to start anything), capped.
std::string Ulimit(int resource, const char* name, rlim_t cap) {
  rlimit lim{};
  rlim_t v = cap;
  if (getrlimit(resource, &lim) == 0 && lim.rlim_max != RLIM_INFINITY) {
    v = std::min(lim.rlim_max, cap);
  }
  return std::string(name) + "=" + std::to_string(v) + ":" + std::to_string(v);
}

}  // namespace

PodmanRuntime::PodmanRuntime(PodmanOptions options) : opts_(std::move(options)) {
  podman_path_ = FindInPath(opts_.podman);
  conf_path_ = opts_.state_dir + "/containers.conf";
}

Status PodmanRuntime::WriteConfig() {
  std::error_code ec;
  fs::create_directories(opts_.state_dir, ec);
  if (ec) return ErrnoError(ec.value(), "creating " + opts_.state_dir);
  std::ofstream f(conf_path_, std::ios::trunc);
  f << "# Written by stash's embedded node for its podman calls (CONTAINERS_CONF).\n"
    << "[containers]\n"
    << "default_ulimits = [\"" << Ulimit(RLIMIT_NOFILE, "nofile", 1048576) << "\", \""
    << Ulimit(RLIMIT_NPROC, "nproc", 32768) << "\"]\n"
    << "[engine]\n"
    << "runtime = \"" << opts_.runtime << "\"\n";
  f.close();
  if (!f) return InternalError("writing " + conf_path_);
  return Status::Ok();
}

Result<PodmanRuntime::Output> PodmanRuntime::Run(const std::vector<std::string>& args,
                                                 std::chrono::seconds timeout) const {
  if (podman_path_.empty()) {
    return FailedPreconditionError("podman is not installed (" + opts_.podman +
                                   " not found in PATH); apt-get install podman runc catatonit");
  }
  std::vector<std::string> argv = {podman_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  // A hung podman (a stuck registry, a held lock) must not hang the node.
  bool timed_out = false;
  auto r = RunProcessFor(argv, {{"CONTAINERS_CONF", conf_path_}}, timeout, &timed_out);
  if (!r.ok()) return r.status();
  if (timed_out) {
    return TimeoutError("podman " + (args.empty() ? "" : args[0]) + " did not finish within " +
                        std::to_string(timeout.count()) + " s");
  }
  return Output{r->exit_code, std::move(r->out), std::move(r->err)};
}

Result<std::string> PodmanRuntime::RunOk(const std::vector<std::string>& args,
                                         const std::string& what) const {
  auto r = Run(args, opts_.call_timeout);
  if (!r.ok()) return Status(r.status().code(), what + ": " + r.status().message());
  if (r->code != 0) {
    std::string msg = Trimmed(r->err.empty() ? r->out : r->err);
    return UnavailableError(what + ": " + msg);
  }
  return std::move(r->out);
}

std::string PodmanRuntime::Describe() const {
  if (!describe_.empty()) return describe_;
  auto v = Run({"version", "--format", "{{.Client.Version}}"}, std::chrono::seconds(30));
  if (!v.ok() || v->code != 0) return "podman (version unknown)";
  describe_ = "podman " + Trimmed(v->out) + " (" + opts_.runtime + ")";
  return describe_;
}

Status PodmanRuntime::Check(const std::string& image) {
  if (Status s = WriteConfig(); !s.ok()) return s;
  auto info = RunOk({"info", "--format", "{{.Host.OCIRuntime.Name}}"}, "podman info");
  if (!info.ok()) return info.status();
  // A pod with podman's pause container, and a container in it when the
  // node has an image to try: proves runc, the rlimits and catatonit.
  const std::string name = "stash-check-" + opts_.node_id;
  (void)Run({"pod", "rm", "-f", name}, opts_.call_timeout);
  auto made = RunOk({"pod", "create", "--name", name, "--network", "host", "--label",
                     std::string(kNodeLabel) + "=" + opts_.node_id},
                    "creating a test pod");
  if (!made.ok()) return made.status();
  Status result = Status::Ok();
  if (image.empty()) {
    auto started = RunOk({"pod", "start", name}, "starting a test pod");
    if (!started.ok()) result = started.status();
  } else {
    auto ran = RunOk({"run", "--rm", "--pull=never", "--pod", name, image, "true"},
                     "running a test container of " + image);
    if (!ran.ok()) result = ran.status();
  }
  (void)Run({"pod", "rm", "-f", "-t", "0", name}, opts_.call_timeout);
  return result;
}

std::string PodmanRuntime::NormalizeImage(const std::string& image) {
  std::string name = image, suffix;
  size_t at = name.find('@');
  if (at != std::string::npos) {
    suffix = name.substr(at);
    name = name.substr(0, at);
  }
  size_t slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool has_host = !first.empty() && (first.find('.') != std::string::npos ||
                                     first.find(':') != std::string::npos || first == "localhost");
  if (!has_host)
    name = slash == std::string::npos ? "docker.io/library/" + name : "docker.io/" + name;
  size_t last_slash = name.rfind('/');
  if (suffix.empty() && name.find(':', last_slash) == std::string::npos) name += ":latest";
  return name + suffix;
}

Result<std::string> PodmanRuntime::ImageId(const std::string& image) {
  auto r =
      Run({"image", "inspect", "--format", "{{.Id}}", NormalizeImage(image)}, opts_.call_timeout);
  if (!r.ok()) return r.status();
  if (r->code != 0) {
    std::string msg = Trimmed(r->err);
    if (msg.find("unknown") != std::string::npos || msg.find("no such") != std::string::npos ||
        msg.find("not known") != std::string::npos) {
      return NotFoundError("image " + image + " is not in the node's image store");
    }
    return UnavailableError("inspecting image " + image + ": " + msg);
  }
  return Trimmed(r->out);
}

Status PodmanRuntime::PullImage(const std::string& image, std::chrono::seconds timeout) {
  auto r = Run({"pull", "--quiet", NormalizeImage(image)}, timeout);
  if (!r.ok()) {
    return Status(r.status().code(), "pulling image \"" + image + "\": " + r.status().message());
  }
  if (r->code != 0) {
    return UnavailableError("pulling image \"" + image + "\": " + Trimmed(r->err));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> PodmanRuntime::LoadImage(const std::string& archive) {
  auto out = RunOk({"load", "--input", archive}, "loading image archive " + archive);
  if (!out.ok()) return out.status();
  std::vector<std::string> names;
  // "Loaded image(s): a,b" (podman 4) or "Loaded image: a" (one per line).
  size_t pos = 0;
  while ((pos = out->find("Loaded image", pos)) != std::string::npos) {
    size_t colon = out->find(':', pos), eol = out->find('\n', pos);
    if (colon == std::string::npos || (eol != std::string::npos && colon > eol)) break;
    std::string list = out->substr(colon + 1, eol == std::string::npos ? eol : eol - colon - 1);
    size_t start = 0;
    while (start < list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string n = list.substr(start, comma - start);
      while (!n.empty() && n.front() == ' ') n.erase(0, 1);
      if (!n.empty()) names.push_back(n);
      start = comma + 1;
    }
    pos = eol == std::string::npos ? out->size() : eol;
  }
  return names;
}

Result<std::vector<SandboxInfo>> PodmanRuntime::ListSandboxes() {
  auto out = RunOk({"pod", "ps", "--filter",
                    std::string("label=") + kNodeLabel + "=" + opts_.node_id, "--format", "json"},
                   "listing pods");
  if (!out.ok()) return out.status();
  return ParseSandboxes(*out);
}

Result<std::vector<SandboxInfo>> PodmanRuntime::ParseSandboxes(const std::string& text) {
  STASH_ASSIGN_OR_RETURN(auto list, DecodeList<PodmanPod>(text, "podman pod ps"));
  std::vector<SandboxInfo> pods;
  for (const PodmanPod& p : list) {
    SandboxInfo s;
    s.id = p.id;
    s.pod_uid = Label(p.labels, kUidLabel);
    s.ns = Label(p.labels, kNsLabel);
    s.name = Label(p.labels, kPodLabel);
    if (!s.pod_uid.empty()) pods.push_back(std::move(s));
  }
  return pods;
}

Result<std::string> PodmanRuntime::EnsureSandbox(const SandboxSpec& spec) {
  auto out = RunOk({"pod", "ps", "-q", "--no-trunc", "--filter",
                    std::string("label=") + kNodeLabel + "=" + opts_.node_id, "--filter",
                    std::string("label=") + kUidLabel + "=" + spec.pod_uid},
                   "looking up the pod of " + spec.ns + "/" + spec.name);
  if (!out.ok()) return out.status();
  std::string id = Trimmed(*out);
  if (size_t nl = id.find('\n'); nl != std::string::npos) id = id.substr(0, nl);
  if (!id.empty()) return id;
  std::string name = "k8s_" + spec.name + "_" + spec.ns + "_" + spec.pod_uid;
  // The pod's containers join the pause container's network namespace, the
  // host's: without "net" in --share each got its own on podman's bridge
  // (10.88.0.0/16), where 127.0.0.1 (KUBERNETES_SERVICE_HOST, the API
  // server) is the container's own and a pod's containers do not share
  // localhost as Kubernetes' do.
  std::vector<std::string> args = {"pod",       "create",
                                   "--name",    name,
                                   "--network", "host",
                                   "--share",   "ipc,uts,net",
                                   "--label",   std::string(kNodeLabel) + "=" + opts_.node_id,
                                   "--label",   std::string(kUidLabel) + "=" + spec.pod_uid,
                                   "--label",   std::string(kNsLabel) + "=" + spec.ns,
                                   "--label",   std::string(kPodLabel) + "=" + spec.name};
  if (!spec.hostname.empty()) {
    args.push_back("--hostname");
    args.push_back(spec.hostname);
  }
  auto made = RunOk(args, "creating the pod sandbox of " + spec.ns + "/" + spec.name);
  if (!made.ok()) return made.status();
  return Trimmed(*made);
}

Status PodmanRuntime::RemoveSandbox(const std::string& id) {
  auto r = RunOk({"pod", "rm", "-f", "-t", "0", id}, "removing pod sandbox " + id);
  if (!r.ok() && r.status().message().find("no pod with") == std::string::npos) return r.status();
  return Status::Ok();
}

std::vector<std::string> PodmanRuntime::CreateArgs(const ContainerSpec& spec,
                                                   const std::string& sandbox_id,
                                                   const std::string& image_user) const {
  std::vector<std::string> a = {"create", "--pod", sandbox_id, "--pull=never"};
  auto add = [&](const std::string& flag, const std::string& value) {
    a.push_back(flag);
    a.push_back(value);
  };
  add("--name", "k8s_" + spec.name + "_" + spec.pod_name + "_" + spec.ns + "_" + spec.pod_uid +
                    "_" + std::to_string(spec.attempt));
  add("--label", std::string(kNodeLabel) + "=" + opts_.node_id);
  add("--label", std::string(kUidLabel) + "=" + spec.pod_uid);
  add("--label", std::string(kNsLabel) + "=" + spec.ns);
  add("--label", std::string(kPodLabel) + "=" + spec.pod_name);
  add("--label", std::string(kNameLabel) + "=" + spec.name);
  add("--label", std::string(kAttemptLabel) + "=" + std::to_string(spec.attempt));
  add("--label", std::string(kInitLabel) + "=" + (spec.init ? "true" : "false"));
  add("--label", std::string(kHashLabel) + "=" + spec.hash);
  add("--label", std::string(kLogLabel) + "=" + spec.log_path);
  add("--log-driver", "k8s-file");
  add("--log-opt", "path=" + spec.log_path);
  if (!spec.command.empty()) add("--entrypoint", json(spec.command).dump());
  if (!spec.working_dir.empty()) add("--workdir", spec.working_dir);
  for (const auto& [k, v] : spec.env) add("--env", k + "=" + v);
  for (const Mount& m : spec.mounts) {
    add("--volume", m.host_path + ":" + m.container_path + (m.read_only ? ":ro" : ""));
  }
  if (spec.uid || spec.gid) {
    std::string user = spec.uid ? std::to_string(*spec.uid) : image_user;
    if (user.empty()) user = "0";
    user = user.substr(0, user.find(':'));
    if (spec.gid) user += ":" + std::to_string(*spec.gid);
    add("--user", user);
  }
  for (int64_t g : spec.supplemental_groups) add("--group-add", std::to_string(g));
  if (spec.tty) a.push_back("--tty");
  if (spec.stdin) a.push_back("--interactive");
  a.push_back(NormalizeImage(spec.image));
  a.insert(a.end(), spec.args.begin(), spec.args.end());
  return a;
}

Result<std::string> PodmanRuntime::StartContainer(const ContainerSpec& spec) {
  const std::string what = "container " + spec.name + " of pod " + spec.ns + "/" + spec.pod_name;
  // Kubernetes' hostname of a pod is its name (at most 63 characters).
  auto sandbox = EnsureSandbox({spec.pod_uid, spec.ns, spec.pod_name, spec.pod_name.substr(0, 63)});
  if (!sandbox.ok()) return sandbox.status();
  std::string image_user;
  if (spec.gid && !spec.uid) {
    auto u = Run({"image", "inspect", "--format", "{{.Config.User}}", NormalizeImage(spec.image)},
                 opts_.call_timeout);
    if (u.ok() && u->code == 0) image_user = Trimmed(u->out);
  }
  std::error_code ec;
  fs::create_directories(fs::path(spec.log_path).parent_path(), ec);
  auto created = RunOk(CreateArgs(spec, *sandbox, image_user), "creating " + what);
  if (!created.ok()) return created.status();
  std::string id = Trimmed(*created);
  auto started = RunOk({"start", id}, "starting " + what);
  if (!started.ok()) return started.status();
  return id;
}

Status PodmanRuntime::StopContainer(const std::string& id, std::chrono::seconds grace) {
  auto r = RunOk({"stop", "--time", std::to_string(grace.count()), id}, "stopping container " + id);
  return r.ok() ? Status::Ok() : r.status();
}

Status PodmanRuntime::RemoveContainer(const std::string& id) {
  auto r = RunOk({"rm", "-f", "-t", "0", id}, "removing container " + id);
  if (!r.ok() && r.status().message().find("no container with") == std::string::npos) {
    return r.status();
  }
  return Status::Ok();
}

Result<std::vector<ContainerInfo>> PodmanRuntime::ListContainers() {
  auto out = RunOk({"ps", "-a", "--filter",
                    std::string("label=") + kNodeLabel + "=" + opts_.node_id, "--format", "json"},
                   "listing containers");
  if (!out.ok()) return out.status();
  return ParseContainers(*out);
}

Result<std::vector<ContainerInfo>> PodmanRuntime::ParseContainers(const std::string& text) {
  STASH_ASSIGN_OR_RETURN(auto list, DecodeList<PodmanContainer>(text, "podman ps"));
  std::vector<ContainerInfo> result;
  for (const PodmanContainer& c : list) {
    if (c.is_infra) continue;
    ContainerInfo info;
    info.name = Label(c.labels, kNameLabel);
    info.pod_uid = Label(c.labels, kUidLabel);
    if (info.name.empty() || info.pod_uid.empty()) continue;  // our check pod's
    info.id = c.id;
    info.ns = Label(c.labels, kNsLabel);
    info.pod_name = Label(c.labels, kPodLabel);
    info.init = Label(c.labels, kInitLabel) == "true";
    info.attempt = std::atoi(Label(c.labels, kAttemptLabel).c_str());
    info.hash = Label(c.labels, kHashLabel);
    info.log_path = Label(c.labels, kLogLabel);
    info.phase = c.state == "running"                          ? ContainerPhase::kRunning
                 : c.state == "exited" || c.state == "stopped" ? ContainerPhase::kExited
                                                               : ContainerPhase::kCreated;
    info.exit_code = c.exit_code;
    info.created = FromUnix(c.created);
    info.started = FromUnix(c.started_at);
    info.finished = FromUnix(c.exited_at);
    info.image = c.image;
    info.image_id = c.image_id;
    result.push_back(std::move(info));
  }
  return result;
}

}  // namespace stash::agent
