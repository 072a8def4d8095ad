// ApiHandler::PodLog: GET pods/{name}/log (kubectl logs), answered by the node
// that runs the pod (PodStreams, pod_streams.h) and streamed to the client.
#include <atomic>

#include "errors.h"
#include "handler.h"

namespace stash::api {

namespace {

// A follow stream ends with the log; each read waits at most until the
// server's deadline so that a gone client is noticed.
class LogStream final : public EventStream {
 public:
  explicit LogStream(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}
  bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) override {
    return source_->Next(chunk, until);
  }

 private:
  std::unique_ptr<ByteSource> source_;
};

// A non-negative integer query parameter; an error response when malformed.
std::optional<HttpResponse> IntParam(const HttpRequest& req, const std::string& name,
                                     std::optional<int64_t>* out) {
  std::string v = req.Query(name);
  if (v.empty()) return std::nullopt;
  try {
    size_t used = 0;
    int64_t n = std::stoll(v, &used);
    if (used != v.size() || n < 0) throw std::invalid_argument(v);
    *out = n;
  } catch (...) {
    return BadRequestResponse("invalid " + name + " \"" + v + "\": must be a non-negative integer");
  }
  return std::nullopt;
}

// The container of `pod` a pods/log or pods/exec request names (`asked`, or
// the pod's only container); a 400 answer as kube-apiserver's when none.
std::optional<HttpResponse> PodContainer(const json& pod, const std::string& asked,
                                         std::string* out) {
  const std::string name = pod.value("/metadata/name"_json_pointer, "");
  std::vector<std::string> names, all;
  for (const char* list : {"containers", "initContainers"}) {
    for (const json& c :
         pod.value("/spec"_json_pointer, json::object()).value(list, json::array())) {
      all.push_back(c.value("name", ""));
      if (std::string(list) == "containers") names.push_back(c.value("name", ""));
    }
  }
  auto joined = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& n : v) s += (s.empty() ? "" : " ") + n;
    return s;
  };
  if (asked.empty()) {
    if (names.size() == 1) {
      *out = names[0];
      return std::nullopt;
    }
    return BadRequestResponse("a container name must be specified for pod " + name +
                              ", choose one of: [" + joined(names) + "]");
  }
  for (const std::string& n : all) {
    if (n == asked) {
      *out = asked;
      return std::nullopt;
    }
  }
  return BadRequestResponse("container " + asked + " is not valid for pod " + name);
}

}  // namespace

bool BoolParam(const HttpRequest& req, const std::string& name) {
  std::string v = req.Query(name);
  return v == "true" || v == "True" || v == "1";
}

std::optional<HttpResponse> ApiHandler::ResolvePodStream(const HttpRequest& req, const Target& t,
                                                         bool post, const std::string& what,
                                                         PodStreamTarget* out) {
  if (req.method != "GET" && !(post && req.method == "POST")) {
    return StatusResponse(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource");
  }
  auto pod = store_.Get(t.info.key(), t.ns, t.name);
  if (!pod) return NotFoundResponse(t.info, t.name);
  if (auto bad = PodContainer(*pod, req.Query("container"), &out->container.container)) return *bad;
  out->streams = pod_streams_.load();
  if (!out->streams) {
    return BadRequestResponse("no node serves " + what + " " + t.name +
                              " (the server runs without its embedded node)");
  }
  out->container.ns = t.ns;
  out->container.pod = t.name;
  out->container.uid = pod->value("/metadata/uid"_json_pointer, "");
  return std::nullopt;
}

HttpResponse ApiHandler::PodLog(const HttpRequest& req, const Target& t) {
  PodStreamTarget pod;
  if (auto refused = ResolvePodStream(req, t, false, "the logs of pod", &pod)) return *refused;
  PodLogOptions o;
  o.follow = BoolParam(req, "follow");
  o.previous = BoolParam(req, "previous");
  o.timestamps = BoolParam(req, "timestamps");
  for (auto [param, field] :
       {std::pair{"tailLines", &o.tail_lines}, std::pair{"limitBytes", &o.limit_bytes},
        std::pair{"sinceSeconds", &o.since_seconds}}) {
    if (auto bad = IntParam(req, param, field)) return *bad;
  }
  if (!req.Query("sinceTime").empty()) o.since_time = req.Query("sinceTime");
  auto source = pod.streams->Logs(pod.container, o);
  if (!source.ok()) return ErrorResponse(source.status());
  HttpResponse r;
  r.content_type = "text/plain";
  r.stream = std::make_shared<LogStream>(std::move(*source));
  return r;
}

}  // namespace stash::api
