// Pushing Stash's metrics to a Prometheus pushgateway, as Stash's sidecar and
// restore init-container do after each run (`--metrics-enabled
// --pushgateway-url=URL`): the exposition text is POSTed (the pushgateway's
// "add": series of the same names in the group are replaced, others kept) to
// <url>/metrics/job/<job>. Stash's job name is
// "<invoker kind lowercased>-<namespace>-<invoker name>" (MetricsJobName).
//
// Thread-safety: pure functions; each call makes its own HTTP client.
#pragma once

#include <string>

#include "stash/core/status.h"

namespace stash::agent {

// Stash's pushgateway default when --pushgateway-url is empty.
inline constexpr const char* kDefaultPushgatewayUrl = "http://localhost:56789";

std::string MetricsJobName(const std::string& invoker_kind, const std::string& ns,
                           const std::string& invoker_name);

// POSTs `exposition` for `job`. Fails naming the gateway and the HTTP status
// when the gateway refuses it (e.g. 400 for text it cannot parse).
Status PushMetrics(const std::string& pushgateway_url, const std::string& job,
                   const std::string& exposition);

}  // namespace stash::agent
