// Kubelet::BuildSpec: a Pod's container as the runtime runs it: command,
// env, volumes, user (kubelet.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "stash/agent/kubelet.h"
#include "stash/agent/repository.h"
#include "stash/kube/events.h"

namespace stash::agent {

namespace {

namespace fs = std::filesystem;
using apis::json;

// rwxr-xr-x: a Secret's, ConfigMap's or token's files for any user.
constexpr fs::perms kReadableDir = fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec;

// Kubernetes' $(VAR) expansion: $(NAME) of a defined variable is replaced,
// $$ is a literal $, anything else is kept as written.
std::string Expand(const std::string& in,
                   const std::vector<std::pair<std::string, std::string>>& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    if (in[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    size_t close = in[i + 1] == '(' ? in.find(')', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      out += in[i];
      continue;
    }
    std::string name = in.substr(i + 2, close - i - 2);
    const std::string* value = nullptr;
    for (const auto& [k, v] : env) {
      if (k == name) value = &v;  // the last definition wins
    }
    if (value) {
      out += *value;
    } else {
      out += in.substr(i, close - i + 1);
    }
    i = close;
  }
  return out;
}

}  // namespace

Status WriteVolumeFiles(const std::string& dir, const std::map<std::string, std::string>& files,
                        int mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoError(ec.value(), "creating volume directory " + dir);
  for (const auto& [name, bytes] : files) {
    fs::path target = fs::path(dir) / name;
    fs::create_directories(target.parent_path(), ec);
    std::string tmp = target.string() + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return ErrnoError(errno, "writing " + tmp);
    bool ok = write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size());
    fchmod(fd, mode);
    close(fd);
    if (!ok || rename(tmp.c_str(), target.c_str()) != 0) {
      return ErrnoError(errno, "writing " + target.string());
    }
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && !files.count(entry.path().filename().string())) {
      fs::remove(entry.path(), ec);
    }
  }
  return Status::Ok();
}

namespace {

// A Secret's or ConfigMap's data as files: all keys, or `items` (key → path)
// when given.
std::map<std::string, std::string> Project(const std::map<std::string, std::string>& data,
                                           const std::vector<apis::KeyToPath>& items) {
  if (items.empty()) return data;
  std::map<std::string, std::string> out;
  for (const apis::KeyToPath& item : items) {
    const std::string& path = item.path.empty() ? item.key : item.path;
    auto it = data.find(item.key);
    if (it != data.end() && !path.empty()) out.insert_or_assign(path, it->second);
  }
  return out;
}

}  // namespace

Status Kubelet::WriteServiceAccountVolume(const apis::Pod& pod, const std::string& dir) {
  // Refreshed at 80% of the hour kubelet asks for (ServiceAccountToken: a
  // pod-bound token lasts a year, as kube-apiserver extends it).
  const SystemTime now = clock_.Now();
  auto written = tokens_written_.find(pod.metadata.uid);
  if (written != tokens_written_.end() && now < written->second + std::chrono::minutes(48) &&
      fs::exists(dir + "/token")) {
    return Status::Ok();
  }
  std::string account =
      pod.spec.service_account_name.empty() ? "default" : pod.spec.service_account_name;
  auto token = sources_.ServiceAccountToken(pod.metadata.namespace_, account, pod.metadata.name,
                                            pod.metadata.uid);
  if (!token.ok()) return token.status();
  std::map<std::string, std::string> files = {{"token", *token},
                                              {"namespace", pod.metadata.namespace_}};
  if (!opts_.ca_pem.empty()) files["ca.crt"] = opts_.ca_pem;
  if (Status s = WriteVolumeFiles(dir, files, 0644); !s.ok()) return s;
  tokens_written_[pod.metadata.uid] = now;
  return Status::Ok();
}

Result<std::vector<Mount>> Kubelet::Volumes(const apis::Pod& pod, const apis::Container& c) {
  const std::string pod_dir = opts_.pods_dir + "/" + pod.metadata.uid;
  const std::string& ns = pod.metadata.namespace_;
  std::vector<Mount> mounts;
  bool token_mounted = false;
  for (const apis::VolumeMount& m : c.volume_mounts) {
    if (m.mount_path == kServiceAccountMountPath) token_mounted = true;
    const apis::Volume* v = nullptr;
    for (const apis::Volume& candidate : pod.spec.volumes) {
      if (candidate.name == m.name) v = &candidate;
    }
    if (!v) return InvalidError("volumeMount \"" + m.name + "\" names no volume of the pod");
    std::string dir;
    // The mode of a directory the node makes for the volume (0: left as it
    // is). The server's umask is 077; kubelet gives an emptyDir 0777 and a
    // Secret's or ConfigMap's directory is readable by all, so a container
    // running as another user (runAsUser) can use them. Their parents stay
    // the node's alone: no other user of the host reaches them.
    fs::perms dir_mode{};
    bool read_only = m.read_only;
    const apis::VolumeSource& src = v->source;
    if (src.persistent_volume_claim) {
      dir = VolumeDir(opts_.data_dir, ns, src.persistent_volume_claim->claim_name);
      read_only = read_only || src.persistent_volume_claim->read_only;
    } else if (src.host_path) {
      dir = src.host_path->path;
    } else if (src.empty_dir) {
      // Where the node's stash processes see it too (NodeRuntime::VolumeHostDir).
      dir = opts_.data_dir + "/emptydir/" + ns + "/" + pod.metadata.name + "/" + v->name;
      dir_mode = fs::perms::all;
    } else if (src.secret) {
      dir = pod_dir + "/volumes/" + v->name;
      dir_mode = kReadableDir;
      auto data = sources_.SecretData(ns, src.secret->secret_name);
      if (!data.ok() &&
          !(data.status().code() == Code::kNotFound && src.secret->optional.value_or(false))) {
        return InvalidError("secret \"" + src.secret->secret_name + "\" not found");
      }
      Status w = WriteVolumeFiles(
          dir, data.ok() ? Project(*data, src.secret->items) : std::map<std::string, std::string>{},
          src.secret->default_mode.value_or(0644));
      if (!w.ok()) return w;
      read_only = true;
    } else if (src.config_map) {
      const apis::ConfigMapVolumeSource& cm = *src.config_map;
      dir = pod_dir + "/volumes/" + v->name;
      dir_mode = kReadableDir;
      auto data = sources_.ConfigMapData(ns, cm.name);
      if (!data.ok() && !(data.status().code() == Code::kNotFound && cm.optional.value_or(false))) {
        return InvalidError("configmap \"" + cm.name + "\" not found");
      }
      Status w = WriteVolumeFiles(
          dir, data.ok() ? Project(*data, cm.items) : std::map<std::string, std::string>{},
          cm.default_mode.value_or(0644));
      if (!w.ok()) return w;
      read_only = true;
    } else {
      return UnsupportedError("volume \"" + v->name +
                              "\": the embedded node mounts persistentVolumeClaim, hostPath, "
                              "emptyDir, secret and configMap volumes only");
    }
    std::error_code ec;
    if (dir_mode != fs::perms{}) {
      const bool made = fs::create_directories(dir, ec);
      // An emptyDir's mode is set once, when it is made: a container may change it.
      if (!ec && (made || !src.empty_dir)) fs::permissions(dir, dir_mode, ec);
      if (ec) return ErrnoError(ec.value(), "creating the directory of volume " + v->name);
    }
    if (!m.sub_path.empty()) dir += "/" + m.sub_path;
    fs::create_directories(dir, ec);
    if (ec) return ErrnoError(ec.value(), "creating the directory of volume " + v->name);
    mounts.push_back({dir, m.mount_path, read_only});
  }
  // The ServiceAccount token, unless the pod opts out or mounts its own.
  if (!token_mounted && pod.spec.automount_service_account_token.value_or(true)) {
    std::string dir = pod_dir + "/volumes/kube-api-access";
    Status s = WriteServiceAccountVolume(pod, dir);
    if (s.ok()) {
      std::error_code ec;
      fs::permissions(dir, kReadableDir, ec);
      if (ec) s = ErrnoError(ec.value(), "setting the mode of " + dir);
    }
    if (!s.ok()) return Status(s.code(), "mounting the ServiceAccount token: " + s.message());
    mounts.push_back({dir, kServiceAccountMountPath, true});
  }
  return mounts;
}

Result<std::vector<std::pair<std::string, std::string>>> Kubelet::Env(const apis::Pod& pod,
                                                                      const apis::Container& c) {
  const std::string& ns = pod.metadata.namespace_;
  std::vector<std::pair<std::string, std::string>> env = {
      {"KUBERNETES_SERVICE_HOST", opts_.api_host},
      {"KUBERNETES_SERVICE_PORT", std::to_string(opts_.api_port)},
      {"KUBERNETES_SERVICE_PORT_HTTPS", std::to_string(opts_.api_port)},
  };
  // The server's variables stash's own containers get too (--pass-env);
  // the spec's env, later, overrides them.
  if (!opts_.stash_image.empty() && c.image == opts_.stash_image) {
    env.insert(env.end(), opts_.stash_env.begin(), opts_.stash_env.end());
  }
  std::map<std::string, std::map<std::string, std::string>> secrets, config_maps;
  auto lookup = [&](bool secret, const std::string& name,
                    bool optional) -> Result<const std::map<std::string, std::string>*> {
    auto& cache = secret ? secrets : config_maps;
    auto it = cache.find(name);
    if (it == cache.end()) {
      auto data = secret ? sources_.SecretData(ns, name) : sources_.ConfigMapData(ns, name);
      if (!data.ok()) {
        if (data.status().code() == Code::kNotFound) {
          if (optional) return nullptr;
          return InvalidError(std::string(secret ? "secret" : "configmap") + " \"" + name +
                              "\" not found");
        }
        return data.status();
      }
      it = cache.emplace(name, std::move(*data)).first;
    }
    return &it->second;
  };
  // envFrom first; env overrides it, as in Kubernetes.
  for (const apis::EnvFromSource& from : c.env_from) {
    auto add = [&](bool secret, const std::string& name, bool optional) -> Status {
      auto data = lookup(secret, name, optional);
      if (!data.ok()) return data.status();
      if (*data) {
        for (const auto& [k, v] : **data) env.emplace_back(from.prefix + k, v);
      }
      return Status::Ok();
    };
    if (from.secret_ref) {
      STASH_RETURN_IF_ERROR(
          add(true, from.secret_ref->name, from.secret_ref->optional.value_or(false)));
    }
    if (from.config_map_ref) {
      STASH_RETURN_IF_ERROR(
          add(false, from.config_map_ref->name, from.config_map_ref->optional.value_or(false)));
    }
  }
  for (const apis::EnvVar& e : c.env) {
    if (!e.value_from) {
      env.emplace_back(e.name, Expand(e.value, env));
      continue;
    }
    const apis::EnvVarSource& from = *e.value_from;
    if (from.field_ref) {
      const std::string& path = from.field_ref->field_path;
      std::string v;
      if (path == "metadata.name") {
        v = pod.metadata.name;
      } else if (path == "metadata.namespace") {
        v = ns;
      } else if (path == "metadata.uid") {
        v = pod.metadata.uid;
      } else if (path == "spec.nodeName") {
        v = opts_.node_name;
      } else if (path == "spec.serviceAccountName") {
        v = pod.spec.service_account_name.empty() ? "default" : pod.spec.service_account_name;
      } else if (path == "status.hostIP" || path == "status.podIP") {
        v = opts_.host_ip;
      } else if (path.rfind("metadata.labels['", 0) == 0 ||
                 path.rfind("metadata.annotations['", 0) == 0) {
        bool labels = path[9] == 'l';
        size_t open = path.find("['") + 2, close = path.rfind("']");
        std::string key = close > open ? path.substr(open, close - open) : "";
        const auto& m = labels ? pod.metadata.labels : pod.metadata.annotations;
        auto it = m.find(key);
        if (it != m.end()) v = it->second;
      } else {
        return InvalidError("env " + e.name + ": fieldRef " + path + " is not supported");
      }
      env.emplace_back(e.name, v);
      continue;
    }
    const apis::KeySelector* sel = from.secret_key_ref       ? &*from.secret_key_ref
                                   : from.config_map_key_ref ? &*from.config_map_key_ref
                                                             : nullptr;
    if (!sel) return InvalidError("env " + e.name + ": valueFrom names no source");
    bool secret = from.secret_key_ref.has_value();
    bool optional = sel->optional.value_or(false);
    auto data = lookup(secret, sel->name, optional);
    if (!data.ok()) return data.status();
    if (!*data) continue;
    auto it = (*data)->find(sel->key);
    if (it == (*data)->end()) {
      if (optional) continue;
      return InvalidError("couldn't find key " + sel->key + " in " +
                          (secret ? "Secret " : "ConfigMap ") + ns + "/" + sel->name);
    }
    env.emplace_back(e.name, it->second);
  }
  return env;
}

Result<ContainerSpec> Kubelet::BuildSpec(const apis::Pod& pod, const apis::Container& c, bool init,
                                         int attempt) {
  ContainerSpec spec;
  spec.pod_uid = pod.metadata.uid;
  spec.ns = pod.metadata.namespace_;
  spec.pod_name = pod.metadata.name;
  spec.name = c.name;
  spec.init = init;
  spec.attempt = attempt;
  spec.image = c.image;
  auto env = Env(pod, c);
  if (!env.ok()) return env.status();
  spec.env = std::move(*env);
  for (const std::string& a : c.command) spec.command.push_back(Expand(a, spec.env));
  for (const std::string& a : c.args) spec.args.push_back(Expand(a, spec.env));
  spec.working_dir = c.working_dir;
  auto mounts = Volumes(pod, c);
  if (!mounts.ok()) return mounts.status();
  spec.mounts = std::move(*mounts);
  if (pod.spec.security_context) {
    spec.uid = pod.spec.security_context->run_as_user;
    spec.gid = pod.spec.security_context->run_as_group;
    spec.supplemental_groups = pod.spec.security_context->supplemental_groups;
    if (pod.spec.security_context->fs_group) {
      spec.supplemental_groups.push_back(*pod.spec.security_context->fs_group);
    }
  }
  if (c.security_context) {
    if (c.security_context->run_as_user) spec.uid = c.security_context->run_as_user;
    if (c.security_context->run_as_group) spec.gid = c.security_context->run_as_group;
  }
  spec.tty = c.tty;
  spec.stdin = c.stdin;
  spec.log_path = opts_.pods_dir + "/" + pod.metadata.uid + "/logs/" + c.name + "/" +
                  std::to_string(attempt) + ".log";
  // The hash covers what was asked for, not the resolved values (a rotated
  // token must not restart the container).
  apis::Container asked = c;
  spec.hash = std::to_string(std::hash<std::string>{}(apis::ToJson(asked).dump()));
  return spec;
}

}  // namespace stash::agent
