#include "stash/agent/metrics_push.h"

#include "stash/core/strings.h"
#include "stash/http/client.h"

namespace stash::agent {

std::string MetricsJobName(const std::string& invoker_kind, const std::string& ns,
                           const std::string& invoker_name) {
  return AsciiLower(invoker_kind) + "-" + ns + "-" + invoker_name;
}

Status PushMetrics(const std::string& pushgateway_url, const std::string& job,
                   const std::string& exposition) {
  std::string url = pushgateway_url.empty() ? kDefaultPushgatewayUrl : pushgateway_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidError("--pushgateway-url \"" + url + "\" must be an http:// or https:// URL");
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  http::Options opts;
  opts.connect_timeout = std::chrono::seconds(10);
  opts.total_timeout = std::chrono::seconds(30);
  http::Client client("pushgateway " + url, opts);
  http::Request req;
  req.method = "POST";
  req.url = url + "/metrics/job/" + http::Escape(job);
  req.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  req.body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(exposition.data()),
                                      exposition.size());
  req.what = "metrics of job " + job;
  auto res = client.Do(req);
  if (!res.ok()) return Status(res.status()).Prepend("pushing metrics to " + url);
  return Status::Ok();
}

}  // namespace stash::agent
