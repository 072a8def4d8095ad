#include "stash/agent/probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "stash/core/strings.h"
#include "stash/http/client.h"

namespace stash::agent {

namespace {

Result<int> ResolvePort(const nlohmann::json& port, const HookTarget& target) {
  if (port.is_number_integer()) {
    const int p = port.get<int>();
    if (p > 0 && p < 65536) return p;
  } else if (port.is_string()) {
    const std::string name = port.get<std::string>();
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
      return std::stoi(name.substr(0, 6));
    }
    auto it = target.named_ports.find(name);
    if (it != target.named_ports.end()) return it->second;
    return NotFoundError("port \"" + name + "\" is not a named port of the container");
  }
  return InvalidError("port " + port.dump() + " is not a port number or name");
}

Status RunHttp(const apis::HTTPAction& a, bool post, const HookTarget& t, Duration timeout) {
  STASH_ASSIGN_OR_RETURN(int port, ResolvePort(a.port, t));
  const std::string scheme = a.scheme.empty() ? "http" : AsciiLower(a.scheme);
  if (scheme != "http" && scheme != "https") {
    return InvalidError("scheme \"" + a.scheme + "\" is not HTTP or HTTPS");
  }
  const std::string host = a.host.empty() ? t.host : a.host;
  std::string path = a.path.empty() ? "/" : a.path;
  if (path[0] != '/') path = "/" + path;
  http::Options opts;
  opts.insecure_tls = true;  // kubelet does not verify probe certificates
  opts.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  opts.total_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  const std::string url = scheme + "://" + host + ":" + std::to_string(port) + path;
  http::Client client("hook " + url, opts);
  http::Request req;
  req.method = post ? "POST" : "GET";
  req.url = url;
  req.what = url;
  bool has_agent = false;
  for (const auto& h : a.http_headers) {
    req.headers.emplace_back(h.name, h.value);
    has_agent = has_agent || strcasecmp(h.name.c_str(), "User-Agent") == 0;
  }
  if (!has_agent) req.headers.emplace_back("User-Agent", "kube-probe/1.25");
  std::string body = a.body;
  if (post && body.empty() && !a.form.empty()) {
    for (const auto& f : a.form) {
      for (const auto& v : f.values) {
        body += (body.empty() ? "" : "&") + http::Escape(f.key) + "=" + http::Escape(v);
      }
    }
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  if (post) {
    req.body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  }
  req.any_status = true;  // kubelet: any status from 200 to 399 succeeds
  auto res = client.Do(req);
  const std::string what = std::string(post ? "httpPost " : "httpGet ") + url + ": ";
  if (!res.ok()) return UnavailableError(what + res.status().message());
  if (res->status >= 200 && res->status < 400) return Status::Ok();
  return FailedPreconditionError(
      what + "HTTP probe failed with statuscode: " + std::to_string(res->status));
}

Status RunTcp(const apis::TCPSocketAction& a, const HookTarget& t, Duration timeout) {
  STASH_ASSIGN_OR_RETURN(int port, ResolvePort(a.port, t));
  const std::string host = a.host.empty() ? t.host : a.host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    return UnavailableError("dial tcp " + host + ":" + std::to_string(port) + ": host not found");
  }
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  int err = rc == 0 ? 0 : errno;
  freeaddrinfo(res);
  if (rc != 0 && err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    const int ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    if (::poll(&p, 1, ms) == 1) {
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    } else {
      err = ETIMEDOUT;
    }
  }
  if (fd >= 0) ::close(fd);
  if (err != 0) {
    return UnavailableError("dial tcp " + host + ":" + std::to_string(port) + ": " +
                            std::strerror(err));
  }
  return Status::Ok();
}

// command[0] as exec(3p) finds it: a path, or a name on the container's PATH.
std::string FindCommand(const std::string& name, const EnvMap& env) {
  if (name.find('/') != std::string::npos) return name;
  auto it = env.find("PATH");
  std::string path = it != env.end() ? it->second : "";
  if (path.empty()) path = getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin";
  for (size_t at = 0; at <= path.size();) {
    size_t colon = path.find(':', at);
    if (colon == std::string::npos) colon = path.size();
    const std::string candidate = path.substr(at, colon - at) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    at = colon + 1;
  }
  return name;
}

Status RunExec(const apis::ExecAction& a, const HookTarget& t, Duration timeout) {
  if (a.command.empty()) return InvalidError("exec hook has an empty command");
  std::vector<std::string> argv = a.command;
  argv[0] = FindCommand(argv[0], t.env);
  std::string shown = "[";
  for (size_t i = 0; i < a.command.size(); ++i) shown += (i ? " " : "") + a.command[i];
  shown += "]";
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return NotFoundError("command " + shown + ": " + a.command[0] + ": executable file not found");
  }
  // The timeout: the process is stopped (SIGTERM).
  bool timed_out = false;
  auto r = RunProcessFor(argv, t.env, timeout, &timed_out);
  if (!r.ok()) return r.status();
  if (timed_out) {
    return TimeoutError(
        "command " + shown + " timed out after " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + "s");
  }
  if (r->exit_code != 0) {
    std::string out = r->out + r->err;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (out.size() > 512) out = out.substr(out.size() - 512);
    return FailedPreconditionError("command " + shown + " exited with " +
                                   std::to_string(r->exit_code) + (out.empty() ? "" : ": " + out));
  }
  return Status::Ok();
}

}  // namespace

Status RunHandler(const apis::Handler& h, const HookTarget& target, Duration timeout) {
  const int actions =
      (h.exec ? 1 : 0) + (h.http_get ? 1 : 0) + (h.http_post ? 1 : 0) + (h.tcp_socket ? 1 : 0);
  if (actions != 1) {
    return InvalidError(actions == 0 ? "hook has no action: give one of exec, httpGet, httpPost, "
                                       "tcpSocket"
                                     : "hook has more than one action: give exactly one of exec, "
                                       "httpGet, httpPost, tcpSocket");
  }
  if (h.http_get) return RunHttp(*h.http_get, false, target, timeout);
  if (h.http_post) return RunHttp(*h.http_post, true, target, timeout);
  if (h.tcp_socket) return RunTcp(*h.tcp_socket, target, timeout);
  return RunExec(*h.exec, target, timeout);
}

bool ProbeStreak::Record(bool ok, const apis::Probe& probe) {
  if (ok != (streak > 0)) streak = 0;
  streak += ok ? 1 : -1;
  const bool verdict = ok ? ready || streak >= probe.success_threshold.value_or(1)
                          : ready && -streak < probe.failure_threshold.value_or(3);
  if (verdict == ready) return false;
  ready = verdict;
  return true;
}

Duration ProbePeriod(const apis::Probe& probe) {
  return std::chrono::seconds(std::max(probe.period_seconds.value_or(10), 1));
}

Duration ProbeTimeout(const apis::Probe& probe) {
  return std::chrono::seconds(std::max(probe.timeout_seconds.value_or(1), 1));
}

std::map<std::string, int> NamedPorts(const apis::Container& container) {
  std::map<std::string, int> ports;
  for (const apis::ContainerPort& p : container.ports) {
    if (!p.name.empty()) ports.emplace(p.name, p.container_port);
  }
  return ports;
}

bool HasProbeAction(const apis::Probe& probe) {
  return probe.http_get || probe.tcp_socket || (probe.exec && !probe.exec->command.empty());
}

Status RunProbe(const apis::Probe& probe, const HookTarget& target, const ProbeExec& exec) {
  const Duration timeout = ProbeTimeout(probe);
  if (probe.http_get) return RunHttp(*probe.http_get, /*post=*/false, target, timeout);
  if (probe.tcp_socket) return RunTcp(*probe.tcp_socket, target, timeout);
  if (probe.exec && !probe.exec->command.empty()) return exec(probe.exec->command, timeout);
  return InvalidError("the probe has no exec, httpGet or tcpSocket action");
}

bool AllowedByExecutionPolicy(const std::string& policy, const std::string& phase, int retry_left) {
  if (policy == "OnFailure") return phase == "Failed";
  if (policy == "OnSuccess") return phase == "Succeeded";
  if (policy == "OnFinalRetryFailure") return phase == "Failed" && retry_left == 0;
  return true;  // Always (the default)
}

}  // namespace stash::agent
