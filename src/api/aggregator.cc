#include "aggregator.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "errors.h"
#include "registry.h"
#include "stash/core/base64.h"

namespace stash::api {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast_http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr const char* kApiServices = "apiregistration.k8s.io/apiservices";
constexpr auto kDiscoveryTtl = std::chrono::seconds(30);
constexpr int kBackendTimeoutSeconds = 60;
constexpr auto kConnectTimeout = std::chrono::seconds(5);
// kube-aggregator's availability probe gives a backend 5 s to answer.
constexpr int kProbeTimeoutSeconds = 5;
// A backend that did not answer discovery is asked again after this long.
constexpr auto kFailedDiscoveryTtl = std::chrono::seconds(10);

// Where a Service's port is reached: an endpoint address and port.
struct Backend {
  std::string host;  // <service>.<namespace>.svc, what its certificate names
  std::string ip;
  int port = 0;
  std::string ca_pem;
  bool insecure = false;
};

HttpResponse Unavailable(const std::string& message) {
  return StatusResponse(503, "ServiceUnavailable", message);
}

// The APIService's Service → one ready endpoint of its port, or why not:
// kube-aggregator's reason and message for the Available condition
// (`availability`) and kube-apiserver's proxy error (the status).
Result<Backend> ResolveBackend(Store& store, const json& apiservice,
                               Availability* availability = nullptr) {
  const json spec = apiservice.value("spec", json::object());
  const json ref = spec.value("service", json::object());
  const std::string ns = ref.value("namespace", ""), name = ref.value("name", "");
  const int port = ref.value("port", 443);
  const std::string svc = "service/" + name + " in \"" + ns + "\"";
  auto fail = [&](const char* reason, const std::string& message, const std::string& proxy) {
    if (availability) *availability = {false, reason, message};
    return UnavailableError(proxy);
  };
  auto service = store.Get("/services", ns, name);
  if (!service) {
    return fail("ServiceNotFound", svc + " is not present", "service \"" + name + "\" not found");
  }
  std::string port_name;
  bool found = false;
  for (const json& p : service->value("/spec/ports"_json_pointer, json::array())) {
    if (p.value("port", 0) == port) {
      port_name = p.value("name", "");
      found = true;
    }
  }
  if (!found) {
    return fail("ServicePortError", svc + " is not listening on port " + std::to_string(port),
                "no service port " + std::to_string(port) + " found for service \"" + name + "\"");
  }
  Backend b;
  b.host = name + "." + ns + ".svc";
  b.insecure = spec.value("insecureSkipTLSVerify", false);
  if (auto ca = Base64Decode(spec.value("caBundle", "")); ca.ok()) b.ca_pem = *ca;
  auto endpoints = store.Get("/endpoints", ns, name);
  const std::string missing = "no endpoints available for service \"" + name + "\"";
  if (!endpoints) {
    return fail("EndpointsNotFound", "cannot find endpoints for " + svc, missing);
  }
  for (const json& subset : endpoints->value("subsets", json::array())) {
    const json addresses = subset.value("addresses", json::array());
    if (addresses.empty()) continue;
    for (const json& p : subset.value("ports", json::array())) {
      if (p.value("name", "") != port_name) continue;
      b.ip = addresses[0].value("ip", "");
      b.port = p.value("port", 0);
      if (!b.ip.empty() && b.port > 0) return b;
    }
  }
  return fail("MissingEndpoints",
              "endpoints for " + svc + " have no addresses with port name \"" + port_name + "\"",
              missing);
}

std::string EscapeSegment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  return out;
}

// The request target as the client sent it (path and query re-encoded).
std::string Target(const HttpRequest& req) {
  std::string target;
  size_t i = 0;
  while (i <= req.path.size()) {
    size_t j = req.path.find('/', i);
    if (j == std::string::npos) j = req.path.size();
    if (i > 0) target += "/";
    target += EscapeSegment(req.path.substr(i, j - i));
    i = j + 1;
  }
  char sep = '?';
  for (const auto& [k, v] : req.query_list) {
    target += sep + EscapeSegment(k) + "=" + EscapeSegment(v);
    sep = '&';
  }
  return target;
}

// One request to the backend over a fresh TLS connection, as the front
// proxy.
Result<HttpResponse> CallBackend(const Backend& b, const FrontProxyCredentials& proxy,
                                 beast_http::request<beast_http::string_body> request,
                                 int io_timeout_seconds = kBackendTimeoutSeconds) {
  try {
    net::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.use_certificate_chain(net::buffer(proxy.cert_pem));
    ctx.use_private_key(net::buffer(proxy.key_pem), ssl::context::pem);
    if (b.insecure) {
      ctx.set_verify_mode(ssl::verify_none);
    } else {
      if (b.ca_pem.empty()) return UnavailableError("the APIService has no caBundle");
      ctx.add_certificate_authority(net::buffer(b.ca_pem));
      ctx.set_verify_mode(ssl::verify_peer);
    }
    ssl::stream<tcp::socket> stream(io, ctx);
    if (!b.insecure) stream.set_verify_callback(ssl::host_name_verification(b.host));
    SSL_set_tlsext_host_name(stream.native_handle(), b.host.c_str());
    tcp::endpoint ep(net::ip::make_address(b.ip), static_cast<unsigned short>(b.port));
    stream.next_layer().open(ep.protocol());
    timeval tv{io_timeout_seconds, 0};
    ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    // A bounded connect: an endpoint that drops packets must not hold a
    // request (or every discovery) for the kernel's two minutes.
    boost::system::error_code connected = net::error::would_block;
    stream.next_layer().async_connect(ep,
                                      [&](const boost::system::error_code& e) { connected = e; });
    io.run_for(kConnectTimeout);
    if (connected == net::error::would_block) {
      return UnavailableError("error trying to reach service: connecting to " + b.ip + ":" +
                              std::to_string(b.port) + " timed out");
    }
    if (connected) throw boost::system::system_error(connected);
    stream.handshake(ssl::stream_base::client);
    request.set(beast_http::field::host, b.host + ":" + std::to_string(b.port));
    request.prepare_payload();
    beast_http::write(stream, request);
    boost::beast::flat_buffer buffer;
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast_http::read(stream, buffer, parser);
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[beast_http::field::content_type]);
    out.body = std::move(res.body());
    boost::system::error_code ignored;
    stream.shutdown(ignored);
    return out;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("error trying to reach service: ") + e.what());
  }
}

beast_http::request<beast_http::string_body> Forwarded(const std::string& method,
                                                       const std::string& target,
                                                       const UserInfo& user) {
  beast_http::request<beast_http::string_body> r;
  r.method(beast_http::string_to_verb(method));
  r.target(target);
  r.version(11);
  r.set("X-Remote-User", user.name);
  for (const std::string& g : user.groups) r.insert("X-Remote-Group", g);
  for (const auto& [key, values] : user.extra) {
    for (const std::string& v : values) r.insert("X-Remote-Extra-" + EscapeSegment(key), v);
  }
  return r;
}

}  // namespace

Aggregator::Aggregator(Store& store, FrontProxyCredentials proxy, Clock& clock)
    : store_(store), proxy_(std::move(proxy)), clock_(clock) {}

std::optional<json> Aggregator::Find(const std::string& group, const std::string& version) const {
  auto s = store_.Get(kApiServices, "", version + "." + group);
  if (!s || !s->value("/spec/service"_json_pointer, json()).is_object()) return std::nullopt;
  if (s->value("/spec/group"_json_pointer, "") != group ||
      s->value("/spec/version"_json_pointer, "") != version) {
    return std::nullopt;
  }
  return s;
}

HttpResponse Aggregator::Proxy(const HttpRequest& req, const json& apiservice,
                               const UserInfo& user) {
  auto backend = ResolveBackend(store_, apiservice);
  if (!backend.ok()) return Unavailable(std::string(backend.status().message()));
  auto r = Forwarded(req.method, Target(req), user);
  if (!req.accept.empty()) r.set(beast_http::field::accept, req.accept);
  if (!req.content_type.empty()) r.set(beast_http::field::content_type, req.content_type);
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    r.body() = req.body;
  }
  auto answer = CallBackend(*backend, proxy_, std::move(r));
  if (!answer.ok()) {
    spdlog::warn("aggregator: {} {}: {}", req.method, req.path, answer.status().message());
    std::function<void(const std::string&)> recheck;
    {
      std::lock_guard lock(mu_);
      recheck = on_unreachable_;
    }
    if (recheck) recheck(apiservice.value("/metadata/name"_json_pointer, ""));
    return Unavailable(std::string(answer.status().message()));
  }
  return std::move(*answer);
}

void Aggregator::SetOnUnreachable(std::function<void(const std::string&)> callback) {
  std::lock_guard lock(mu_);
  on_unreachable_ = std::move(callback);
}

Availability Aggregator::Check(const json& apiservice) {
  if (!apiservice.value("/spec/service"_json_pointer, json()).is_object()) {
    return {true, "Local", "Local APIServices are always available"};
  }
  Availability out;
  auto backend = ResolveBackend(store_, apiservice, &out);
  if (!backend.ok()) return out;
  const std::string path = "/apis/" + apiservice.value("/spec/group"_json_pointer, "") + "/" +
                           apiservice.value("/spec/version"_json_pointer, "");
  std::string ip = backend->ip;
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  const std::string url = "https://" + ip + ":" + std::to_string(backend->port) + path;
  UserInfo aggregator{"system:kube-aggregator", "", {"system:masters"}, {}};
  auto r = Forwarded("GET", path, aggregator);
  r.set(beast_http::field::accept, "application/json");
  auto answer = CallBackend(*backend, proxy_, std::move(r), kProbeTimeoutSeconds);
  const std::string failing = "failing or missing response from " + url + ": ";
  if (!answer.ok()) {
    return {false, "FailedDiscoveryCheck", failing + std::string(answer.status().message())};
  }
  if (answer->status < 200 || answer->status > 299) {
    return {false, "FailedDiscoveryCheck",
            failing + "bad status from " + url + ": " + std::to_string(answer->status)};
  }
  return {true, "Passed", "all checks passed"};
}

HttpResponse Aggregator::OpenApiV3(const json& apiservice) {
  const std::string key = apiservice.value("/spec/group"_json_pointer, "") + "/" +
                          apiservice.value("/spec/version"_json_pointer, "");
  auto last_good = [&]() -> std::optional<HttpResponse> {
    std::lock_guard lock(mu_);
    auto it = openapi_.find(key);
    if (it == openapi_.end()) return std::nullopt;
    return it->second;
  };
  auto backend = ResolveBackend(store_, apiservice);
  if (!backend.ok()) {
    if (auto doc = last_good()) return *doc;
    return Unavailable(std::string(backend.status().message()));
  }
  UserInfo aggregator{"system:kube-aggregator", "", {"system:masters"}, {}};
  auto r = Forwarded("GET", "/openapi/v3/apis/" + key, aggregator);
  r.set(beast_http::field::accept, "application/json");
  auto answer = CallBackend(*backend, proxy_, std::move(r));
  if (answer.ok() && answer->status == 200) {
    std::lock_guard lock(mu_);
    openapi_[key] = *answer;
    return std::move(*answer);
  }
  if (auto doc = last_good()) return *doc;
  if (answer.ok()) return std::move(*answer);
  return Unavailable(std::string(answer.status().message()));
}

std::vector<AggregatedGroup> Aggregator::Groups(bool with_resources) {
  std::vector<json> services = store_.List(kApiServices, "", nullptr);
  // Higher versionPriority first within a group, as kube-apiserver orders.
  std::sort(services.begin(), services.end(), [](const json& a, const json& b) {
    return a.value("/spec/versionPriority"_json_pointer, 0) >
           b.value("/spec/versionPriority"_json_pointer, 0);
  });
  std::vector<AggregatedGroup> out;
  for (const json& s : services) {
    const std::string group = s.value("/spec/group"_json_pointer, "");
    const std::string version = s.value("/spec/version"_json_pointer, "");
    if (group.empty() || version.empty() || !Find(group, version)) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const AggregatedGroup& g) { return g.group == group; });
    if (it == out.end()) it = out.insert(out.end(), AggregatedGroup{group, {}, {}});
    it->versions.push_back(version);
    if (!with_resources) continue;
    const std::string key = group + "/" + version;
    {
      std::lock_guard lock(mu_);
      auto cached = discovery_.find(key);
      const auto ttl = cached == discovery_.end() || cached->second.list.is_null()
                           ? kFailedDiscoveryTtl
                           : kDiscoveryTtl;
      if (cached != discovery_.end() && clock_.Now() - cached->second.at < ttl) {
        it->resources[version] = cached->second.list;
        continue;
      }
    }
    json list;  // null: the backend did not answer
    if (auto backend = ResolveBackend(store_, s); backend.ok()) {
      UserInfo aggregator{"system:kube-aggregator", "", {"system:masters"}, {}};
      auto r = Forwarded("GET", "/apis/" + key, aggregator);
      r.set(beast_http::field::accept, "application/json");
      auto answer = CallBackend(*backend, proxy_, std::move(r));
      if (answer.ok() && answer->status == 200) {
        list = json::parse(answer->body, nullptr, false);
        if (list.is_discarded()) list = nullptr;
      }
    }
    {
      std::lock_guard lock(mu_);
      discovery_[key] = Cached{list, clock_.Now()};
    }
    it->resources[version] = list;
  }
  return out;
}

}  // namespace stash::api
