// Certs: the API server's credentials in its data directory — a self-signed
// CA, a serving certificate signed by it (SANs: localhost, 127.0.0.1, ::1 and
// the listen host) and a random bearer token — created on first start and
// reused afterwards (the serving certificate is re-issued when the listen host
// is not among its SANs).
//
// Thread-safety: EnsureCredentials touches only files; call it once at start.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/result.h"

namespace stash::api {

struct Credentials {
  std::string ca_pem;
  std::string cert_pem;  // serving certificate
  std::string key_pem;   // its private key
  std::string token;
};

Result<Credentials> EnsureCredentials(const std::string& data_dir, const std::string& host,
                                      Clock& clock, Random& random);

// The front proxy's credentials, as kube-apiserver's
// --requestheader-client-ca-file and --proxy-client-cert-file/-key-file: a CA
// of their own and a client certificate (CN "front-proxy-client", extended
// key usage clientAuth) that the aggregation layer presents to extension API
// servers; front-proxy-ca.crt, front-proxy-client.{crt,key} in the data
// directory, created on first start.
inline constexpr std::string_view kFrontProxyClientName = "front-proxy-client";
struct FrontProxyCredentials {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};
Result<FrontProxyCredentials> EnsureFrontProxyCredentials(const std::string& data_dir, Clock& clock,
                                                          Random& random);

// Writes `content` to `path` with the given mode, atomically (temp + rename).
Status WriteFileAtomic(const std::string& path, const std::string& content, int mode);
Result<std::string> ReadFile(const std::string& path);

}  // namespace stash::api
