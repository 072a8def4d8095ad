#include "stash/kube/client.h"

#include "stash/http/client.h"

namespace stash::kube {

namespace res {
const Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
const Resource kSecrets{"", "v1", "secrets", "Secret"};
const Resource kEvents{"", "v1", "events", "Event"};
const Resource kPods{"", "v1", "pods", "Pod"};
const Resource kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"};
const Resource kNodes{"", "v1", "nodes", "Node", false};
const Resource kPersistentVolumes{"", "v1", "persistentvolumes", "PersistentVolume", false};
const Resource kDeployments{"apps", "v1", "deployments", "Deployment"};
const Resource kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet"};
const Resource kDaemonSets{"apps", "v1", "daemonsets", "DaemonSet"};
const Resource kCronJobs{"batch", "v1", "cronjobs", "CronJob"};
const Resource kJobs{"batch", "v1", "jobs", "Job"};
const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease"};
const Resource kRepositories{"stash.appscode.com", "v1alpha1", "repositories", "Repository"};
const Resource kBackupConfigurations{"stash.appscode.com", "v1beta1", "backupconfigurations",
                                     "BackupConfiguration"};
const Resource kBackupSessions{"stash.appscode.com", "v1beta1", "backupsessions", "BackupSession"};
const Resource kRestoreSessions{"stash.appscode.com", "v1beta1", "restoresessions",
                                "RestoreSession"};
}  // namespace res

Result<Resource> WorkloadResource(std::string_view kind) {
  if (kind == "Deployment") return res::kDeployments;
  if (kind == "StatefulSet") return res::kStatefulSets;
  if (kind == "DaemonSet") return res::kDaemonSets;
  return UnsupportedError("target kind \"" + std::string(kind) +
                          "\" is not supported; use Deployment, StatefulSet or DaemonSet");
}

namespace {

// The string at `keys` inside `j`, or "" when any step is missing or of
// another type (never throws, unlike json::value on a malformed body).
std::string StringAt(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return "";
    auto it = cur->find(k);
    if (it == cur->end()) return "";
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

std::string Query(const ListOptions& o, bool watch) {
  std::string q;
  auto add = [&q](std::string_view k, const std::string& v) {
    q += q.empty() ? '?' : '&';
    q += k;
    q += '=';
    q += http::Escape(v);
  };
  if (!o.label_selector.empty()) add("labelSelector", o.label_selector);
  if (!o.field_selector.empty()) add("fieldSelector", o.field_selector);
  if (!o.resource_version.empty()) add("resourceVersion", o.resource_version);
  if (o.timeout_seconds > 0) add("timeoutSeconds", std::to_string(o.timeout_seconds));
  if (watch) {
    add("watch", "true");
    add("allowWatchBookmarks", "true");
  }
  return q;
}

}  // namespace

Status StatusFromHttp(long code, std::string_view body, std::string_view what) {
  std::string message;
  std::string reason;
  json parsed = json::parse(body, nullptr, false);
  if (StringAt(parsed, {"kind"}) == "Status") {
    message = StringAt(parsed, {"message"});
    reason = StringAt(parsed, {"reason"});
  }
  if (message.empty()) {
    message = "HTTP " + std::to_string(code);
    if (!body.empty()) message += ": " + std::string(body.substr(0, 300));
  }
  std::string text = std::string(what) + ": " + message;
  switch (code) {
    case 400:
    case 422:
      return InvalidError(text);
    case 401:
      return UnauthorizedError(text + " (check the kubeconfig's token)");
    case 403:
      return ForbiddenError(text);
    case 404:
      return NotFoundError(text);
    case 409:
      return reason == "AlreadyExists" ? AlreadyExistsError(text) : ConflictError(text);
    case 410:
      return FailedPreconditionError(text);
    case 415:
      return UnsupportedError(text);
    case 429:
      return ResourceExhaustedError(text).SetRetryable(true);
    default:
      if (code >= 500) return UnavailableError(text);
      return InternalError(text);
  }
}

std::string Client::Path(const Resource& r, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) p += "/namespaces/" + std::string(ns);
  p += "/" + r.plural;
  if (!name.empty()) p += "/" + std::string(name);
  if (!subresource.empty()) p += "/" + std::string(subresource);
  return p;
}

namespace {

// One API request: the headers every request carries, the bearer token, and
// any answer handed back (the caller maps Kubernetes Status documents).
http::Request ApiRequest(const KubeConfig& cfg, std::string method, const std::string& path) {
  http::Request req;
  req.method = std::move(method);
  req.url = cfg.server + path;
  req.what = path;
  req.any_status = true;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", "stash-operator"}};
  if (!cfg.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + cfg.token);
  return req;
}

http::Options HttpOptionsOf(const KubeConfig& cfg) {
  http::Options o;
  o.ca_pem = cfg.ca_pem;
  o.client_cert_pem = cfg.client_cert_pem;
  o.client_key_pem = cfg.client_key_pem;
  o.insecure_tls = cfg.insecure_skip_tls_verify;
  o.connect_timeout = std::chrono::seconds(10);
  o.total_timeout = std::chrono::seconds(30);
  o.low_speed_bytes = 0;           // a watch may stay silent for minutes
  o.unreachable_is_final = false;  // an API server still starting is worth waiting for
  o.accept_compressed = true;
  return o;
}

}  // namespace

Client::Client(KubeConfig cfg)
    : cfg_(std::move(cfg)),
      http_(std::make_shared<http::Client>(cfg_.server, HttpOptionsOf(cfg_))) {
  http_->AddSecret(cfg_.token);
}

Result<json> Client::Do(std::string method, std::string path, const json* body,
                        std::string content_type) const {
  http::Request req = ApiRequest(cfg_, std::move(method), path);
  const std::string text = body ? body->dump() : "";
  if (body || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    req.headers.emplace_back("Content-Type", std::move(content_type));
    req.body = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  STASH_ASSIGN_OR_RETURN(http::Response resp, http_->Do(req));
  if (resp.status < 200 || resp.status >= 300) {
    return StatusFromHttp(resp.status, resp.body, req.method + " " + path);
  }
  json out = json::parse(resp.body, nullptr, false);
  if (out.is_discarded()) {
    return UnavailableError(req.method + " " + path + ": the server answered with invalid JSON");
  }
  return out;
}

Result<json> Client::Get(const Resource& r, std::string_view ns, std::string_view name) const {
  return Do("GET", Path(r, ns, name), nullptr);
}

Result<json> Client::List(const Resource& r, std::string_view ns, const ListOptions& opts) const {
  return Do("GET", Path(r, ns) + Query(opts, false), nullptr);
}

Result<json> Client::Create(const Resource& r, std::string_view ns, const json& obj) const {
  json body = obj;
  body["apiVersion"] = r.ApiVersion();
  body["kind"] = r.kind;
  return Do("POST", Path(r, ns), &body);
}

Result<json> Client::Update(const Resource& r, std::string_view ns, const json& obj) const {
  return Do("PUT", Path(r, ns, StringAt(obj, {"metadata", "name"})), &obj);
}

Result<json> Client::UpdateStatus(const Resource& r, std::string_view ns, const json& obj) const {
  return Do("PUT", Path(r, ns, StringAt(obj, {"metadata", "name"}), "status"), &obj);
}

Result<json> Client::Patch(const Resource& r, std::string_view ns, std::string_view name,
                           PatchType type, const json& patch, std::string_view subresource) const {
  const char* ct = type == PatchType::kMerge  ? "application/merge-patch+json"
                   : type == PatchType::kJson ? "application/json-patch+json"
                                              : "application/strategic-merge-patch+json";
  return Do("PATCH", Path(r, ns, name, subresource), &patch, ct);
}

Status Client::Delete(const Resource& r, std::string_view ns, std::string_view name,
                      std::string_view propagation) const {
  json body;
  const json* pbody = nullptr;
  if (!propagation.empty()) {
    body = {{"kind", "DeleteOptions"},
            {"apiVersion", "v1"},
            {"propagationPolicy", std::string(propagation)}};
    pbody = &body;
  }
  auto r2 = Do("DELETE", Path(r, ns, name), pbody);
  return r2.ok() ? Status::Ok() : r2.status();
}

void Client::WakeWatches() const { http_->WakeTransfers(); }

Status Client::Watch(const Resource& r, std::string_view ns, const ListOptions& opts,
                     const std::function<void(const WatchEvent&)>& on_event,
                     const std::atomic<bool>* stop) const {
  const std::string path = Path(r, ns) + Query(opts, true);
  http::Request req = ApiRequest(cfg_, "GET", path);
  req.timeout = std::chrono::milliseconds(0);  // until the server or `stop` ends it
  req.cancel = stop;
  LineSplitter lines;
  Status stream_error;
  std::string first_bytes;  // kept for error replies, which are not events
  req.stream = [&](std::string_view data) {
    if (first_bytes.size() < 4096) first_bytes.append(data.substr(0, 4096 - first_bytes.size()));
    bool keep_going = true;
    lines.Feed(data, [&](std::string_view line) {
      json ev = json::parse(line, nullptr, false);
      if (!ev.is_object() || !ev.contains("type")) {
        return;  // not an event line (e.g. an error Status body); judged below
      }
      auto object = ev.find("object");
      WatchEvent we{StringAt(ev, {"type"}), object != ev.end() ? *object : json::object()};
      if (we.type == "ERROR") {
        auto c = we.object.is_object() ? we.object.find("code") : we.object.end();
        long code = c != we.object.end() && c->is_number_integer() ? c->get<long>() : 500;
        stream_error = StatusFromHttp(code, we.object.dump(), "watch " + path);
        keep_going = false;
        return;
      }
      on_event(we);
    });
    return keep_going;
  };
  auto resp = http_->Do(req);
  if (!resp.ok()) {
    if (resp.status().code() == Code::kCancelled)
      return CancelledError("watch " + path + ": stopped");
    return resp.status();
  }
  if (resp->status < 200 || resp->status >= 300) {
    return StatusFromHttp(resp->status, first_bytes, "watch " + path);
  }
  if (!stream_error.ok()) return stream_error;
  if (stop && stop->load()) return CancelledError("watch " + path + ": stopped");
  return Status::Ok();
}

}  // namespace stash::kube
