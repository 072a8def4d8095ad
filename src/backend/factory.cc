#include "stash/backend/factory.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ranged.h"
#include "stash/backend/limit.h"
#include "stash/backend/local.h"
#include "stash/backend/rate.h"

namespace stash::backend {
namespace {

std::string Get(const Env& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

// path.Clean-like for prefixes: no leading/trailing or doubled slashes.
std::string CleanPrefix(std::string_view p) {
  std::string out;
  std::stringstream ss{std::string(p)};
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFoundError("cannot read " + what + " file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// STASH_CACERT: CA files to trust, one path per line (restic's repeatable
// --cacert). STASH_TLS_CLIENT_CERT: one PEM file with the client certificate
// and its private key (restic's --tls-client-cert).
Status ApplyTls(const Env& env, http::Options* http) {
  std::string cas = Get(env, "STASH_CACERT");
  for (size_t start = 0; start < cas.size();) {
    size_t end = cas.find('\n', start);
    if (end == std::string::npos) end = cas.size();
    if (end > start) {
      STASH_ASSIGN_OR_RETURN(std::string pem,
                             ReadFile(cas.substr(start, end - start), "CA certificate (--cacert)"));
      http->ca_pem += pem + "\n";
    }
    start = end + 1;
  }
  if (std::string path = Get(env, "STASH_TLS_CLIENT_CERT"); !path.empty()) {
    STASH_ASSIGN_OR_RETURN(std::string pem,
                           ReadFile(path, "TLS client certificate (--tls-client-cert)"));
    if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos ||
        pem.find("PRIVATE KEY-----") == std::string::npos) {
      return InvalidError("TLS client certificate file " + path +
                          " must hold the certificate and its private key, PEM-encoded, in one "
                          "file (as restic's --tls-client-cert)");
    }
    http->client_cert_pem = pem;
    http->client_key_pem = pem;
  }
  http->insecure_tls = Get(env, "STASH_INSECURE_TLS") == "true";
  return Status::Ok();
}

Result<BackendSpec> ParseS3(std::string_view rest, const Env& env) {
  BackendSpec spec;
  spec.kind = BackendKind::kS3;
  S3Config& c = spec.s3;
  std::string endpoint;
  if (rest.starts_with("http://") || rest.starts_with("https://")) {
    auto scheme_end = rest.find("://") + 3;
    auto slash = rest.find('/', scheme_end);
    endpoint = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  } else {
    auto slash = rest.find('/');
    endpoint = "https://" + std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  }
  STASH_ASSIGN_OR_RETURN(c.endpoint, ParseUrl(endpoint));
  auto slash = rest.find('/');
  c.bucket = std::string(rest.substr(0, slash));
  if (c.bucket.empty()) return InvalidError("s3 repository needs a bucket: s3:host/bucket/prefix");
  if (slash != std::string_view::npos) c.prefix = CleanPrefix(rest.substr(slash + 1));
  c.access_key_id = Get(env, "AWS_ACCESS_KEY_ID");
  c.secret_access_key = Get(env, "AWS_SECRET_ACCESS_KEY");
  c.session_token = Get(env, "AWS_SESSION_TOKEN");
  if (std::string r = Get(env, "AWS_DEFAULT_REGION"); !r.empty()) c.region = r;
  std::string lookup = Get(env, "STASH_S3_BUCKET_LOOKUP");
  if (lookup == "path")
    c.lookup = BucketLookup::kPath;
  else if (lookup == "dns")
    c.lookup = BucketLookup::kDns;
  else if (!lookup.empty() && lookup != "auto") {
    return InvalidError("STASH_S3_BUCKET_LOOKUP must be auto, path or dns, not '" + lookup + "'");
  }
  STASH_RETURN_IF_ERROR(ApplyTls(env, &c.http));
  return spec;
}

// "bucket:/prefix" for gs: and azure:.
Status SplitContainer(std::string_view rest, const char* scheme, std::string* name,
                      std::string* prefix) {
  auto colon = rest.find(':');
  *name = std::string(rest.substr(0, colon));
  if (name->empty() || colon == std::string_view::npos) {
    return InvalidError(std::string(scheme) + " repository must look like " + scheme +
                        ":<name>:/<prefix>");
  }
  *prefix = CleanPrefix(rest.substr(colon + 1));
  return Status::Ok();
}

Status ConfigureGcs(GcsConfig* c, const std::string& emulator_host, const std::string& key_json) {
  if (!emulator_host.empty()) {
    c->emulator = true;
    c->endpoint = emulator_host;
  } else {
    c->service_account_json = key_json;
  }
  return Status::Ok();
}

}  // namespace

std::string BackendSpec::Describe() const {
  switch (kind) {
    case BackendKind::kLocal:
      return "local:" + local_path;
    case BackendKind::kRest:
      return "rest:" + rest.url.Redacted();
    case BackendKind::kS3:
      return "s3:" + s3.endpoint.Origin() + "/" + s3.bucket +
             (s3.prefix.empty() ? "" : "/" + s3.prefix);
    case BackendKind::kGcs:
      return "gs:" + gcs.bucket + ":/" + gcs.prefix;
    case BackendKind::kAzure:
      return "azure:" + azure.container + ":/" + azure.prefix;
  }
  return "unknown";
}

Result<BackendSpec> ParseRepository(const std::string& repository, const Env& env) {
  if (repository.empty()) {
    return InvalidError("no repository given; use -r/--repo or RESTIC_REPOSITORY");
  }
  std::string_view r(repository);
  Result<BackendSpec> result = InvalidError("unreachable");
  if (r.starts_with("rest:")) {
    BackendSpec spec;
    spec.kind = BackendKind::kRest;
    STASH_ASSIGN_OR_RETURN(spec.rest.url, ParseUrl(r.substr(5)));
    STASH_RETURN_IF_ERROR(ApplyTls(env, &spec.rest.http));
    result = std::move(spec);
  } else if (r.starts_with("s3:")) {
    result = ParseS3(r.substr(3), env);
  } else if (r.starts_with("gs:")) {
    BackendSpec spec;
    spec.kind = BackendKind::kGcs;
    STASH_RETURN_IF_ERROR(SplitContainer(r.substr(3), "gs", &spec.gcs.bucket, &spec.gcs.prefix));
    spec.gcs.project_id = Get(env, "GOOGLE_PROJECT_ID");
    std::string key = Get(env, "GOOGLE_SERVICE_ACCOUNT_JSON_KEY");
    if (std::string file = Get(env, "GOOGLE_APPLICATION_CREDENTIALS");
        key.empty() && !file.empty()) {
      STASH_ASSIGN_OR_RETURN(key, ReadFile(file, "GOOGLE_APPLICATION_CREDENTIALS"));
    }
    STASH_RETURN_IF_ERROR(ConfigureGcs(&spec.gcs, Get(env, "STORAGE_EMULATOR_HOST"), key));
    STASH_RETURN_IF_ERROR(ApplyTls(env, &spec.gcs.http));
    result = std::move(spec);
  } else if (r.starts_with("azure:")) {
    BackendSpec spec;
    spec.kind = BackendKind::kAzure;
    STASH_RETURN_IF_ERROR(
        SplitContainer(r.substr(6), "azure", &spec.azure.container, &spec.azure.prefix));
    spec.azure.account_name = Get(env, "AZURE_ACCOUNT_NAME");
    spec.azure.account_key = Get(env, "AZURE_ACCOUNT_KEY");
    spec.azure.endpoint = Get(env, "AZURE_ENDPOINT");
    STASH_RETURN_IF_ERROR(ApplyTls(env, &spec.azure.http));
    result = std::move(spec);
  } else if (r.starts_with("local:") || r.find(':') == std::string_view::npos || r.front() == '/' ||
             r.front() == '.') {
    BackendSpec spec;
    spec.local_path = std::string(r.starts_with("local:") ? r.substr(6) : r);
    result = std::move(spec);
  } else {
    std::string scheme(r.substr(0, r.find(':')));
    return UnsupportedError("repository type '" + scheme +
                            ":' is not supported; use a path, rest:, s3:, gs: or azure:");
  }
  if (!result.ok()) return result;
  if (std::string mc = Get(env, "STASH_MAX_CONNECTIONS"); !mc.empty()) {
    auto n = ParseU64(mc);
    if (!n || *n == 0 || *n > 1024) return InvalidError("STASH_MAX_CONNECTIONS must be 1..1024");
    result->max_connections = static_cast<int>(*n);
  }
  result->repository_password = Get(env, "RESTIC_PASSWORD");
  return result;
}

Result<BackendSpec> FromStashRepository(const nlohmann::json& b,
                                        const std::map<std::string, std::string>& secret) {
  if (!b.is_object()) return InvalidError("Repository.spec.backend must be an object");
  auto field = [](const nlohmann::json& o, const char* name) -> std::string {
    return o.contains(name) && o[name].is_string() ? o[name].get<std::string>() : "";
  };
  auto max_conn = [](const nlohmann::json& o) -> int {
    return o.contains("maxConnections") && o["maxConnections"].is_number_integer()
               ? static_cast<int>(o["maxConnections"].get<int64_t>())
               : 0;
  };
  auto require = [](const std::string& v, const std::string& path) -> Status {
    if (v.empty()) return InvalidError("Repository.spec.backend." + path + " is required");
    return Status::Ok();
  };
  Env env(secret.begin(), secret.end());
  BackendSpec spec;
  int kinds = 0;
  for (const char* k : {"local", "s3", "gcs", "azure", "rest", "b2", "swift"})
    kinds += b.contains(k);
  if (kinds != 1) {
    return InvalidError(
        "Repository.spec.backend must set exactly one of local, s3, gcs, azure, rest");
  }
  http::Options http;
  http.ca_pem = Get(env, "CA_CERT_DATA");
  if (b.contains("local")) {
    const auto& l = b["local"];
    std::string mount = field(l, "mountPath");
    STASH_RETURN_IF_ERROR(require(mount, "local.mountPath"));
    spec.local_path = mount;
    if (std::string sub = field(l, "subPath"); !sub.empty()) spec.local_path += "/" + sub;
  } else if (b.contains("s3")) {
    const auto& s = b["s3"];
    std::string endpoint = field(s, "endpoint"), bucket = field(s, "bucket");
    STASH_RETURN_IF_ERROR(require(endpoint, "s3.endpoint"));
    STASH_RETURN_IF_ERROR(require(bucket, "s3.bucket"));
    std::string prefix = field(s, "prefix");
    if (endpoint.find("://") == std::string::npos) endpoint = "https://" + endpoint;
    while (endpoint.back() == '/') endpoint.pop_back();
    if (std::string region = field(s, "region"); !region.empty())
      env["AWS_DEFAULT_REGION"] = region;
    STASH_ASSIGN_OR_RETURN(spec, ParseS3(endpoint.substr(0) + "/" + bucket + "/" + prefix, env));
    spec.s3.http = http;
    spec.s3.http.insecure_tls =
        s.contains("insecureTLS") && s["insecureTLS"].is_boolean() && s["insecureTLS"].get<bool>();
  } else if (b.contains("gcs")) {
    const auto& g = b["gcs"];
    spec.kind = BackendKind::kGcs;
    spec.gcs.bucket = field(g, "bucket");
    STASH_RETURN_IF_ERROR(require(spec.gcs.bucket, "gcs.bucket"));
    spec.gcs.prefix = CleanPrefix(field(g, "prefix"));
    spec.gcs.project_id = Get(env, "GOOGLE_PROJECT_ID");
    spec.gcs.http = http;
    STASH_RETURN_IF_ERROR(ConfigureGcs(&spec.gcs, Get(env, "STORAGE_EMULATOR_HOST"),
                                       Get(env, "GOOGLE_SERVICE_ACCOUNT_JSON_KEY")));
    spec.max_connections = max_conn(g);
  } else if (b.contains("azure")) {
    const auto& a = b["azure"];
    spec.kind = BackendKind::kAzure;
    spec.azure.container = field(a, "container");
    STASH_RETURN_IF_ERROR(require(spec.azure.container, "azure.container"));
    spec.azure.prefix = CleanPrefix(field(a, "prefix"));
    spec.azure.account_name = Get(env, "AZURE_ACCOUNT_NAME");
    spec.azure.account_key = Get(env, "AZURE_ACCOUNT_KEY");
    spec.azure.endpoint = Get(env, "AZURE_ENDPOINT");
    spec.azure.http = http;
    spec.max_connections = max_conn(a);
  } else if (b.contains("rest")) {
    std::string url = field(b["rest"], "url");
    STASH_RETURN_IF_ERROR(require(url, "rest.url"));
    spec.kind = BackendKind::kRest;
    STASH_ASSIGN_OR_RETURN(spec.rest.url, ParseUrl(url));
    // Stash puts the Secret's user and password into the URL; we keep them
    // beside it instead, so they never reach a process listing or a log.
    if (std::string u = Get(env, "REST_SERVER_USERNAME"); !u.empty()) spec.rest.url.user = u;
    if (std::string p = Get(env, "REST_SERVER_PASSWORD"); !p.empty()) spec.rest.url.password = p;
    spec.rest.http = http;
  } else {
    return UnsupportedError("Repository.spec.backend: b2 and swift are not supported by stash");
  }
  spec.repository_password = Get(env, "RESTIC_PASSWORD");
  return spec;
}

Result<BackendPtr> OpenBackend(const BackendSpec& given, Clock& clock, Random& random,
                               RetryOptions retry) {
  BackendSpec spec = given;
  if (spec.cancel != nullptr) {
    for (http::Options* o : {&spec.rest.http, &spec.s3.http, &spec.gcs.http, &spec.azure.http}) {
      o->cancel = spec.cancel;
    }
  }
  BackendPtr concrete;
  switch (spec.kind) {
    case BackendKind::kLocal:
      concrete = std::make_unique<LocalBackend>(spec.local_path);
      break;
    case BackendKind::kRest:
      concrete = std::make_unique<RestBackend>(spec.rest);
      break;
    case BackendKind::kS3:
      concrete = std::make_unique<S3Backend>(spec.s3, clock);
      break;
    case BackendKind::kGcs: {
      STASH_ASSIGN_OR_RETURN(auto g, GcsBackend::Open(spec.gcs, clock));
      concrete = std::move(g);
      break;
    }
    case BackendKind::kAzure: {
      STASH_ASSIGN_OR_RETURN(auto a, AzureBackend::Open(spec.azure, clock));
      concrete = std::move(a);
      break;
    }
  }
  BackendPtr limited = std::make_unique<LimitBackend>(std::move(concrete), spec.max_connections);
  if (spec.limit_upload || spec.limit_download) {
    limited = std::make_unique<RateLimitBackend>(std::move(limited), clock, spec.limit_upload,
                                                 spec.limit_download);
  }
  return BackendPtr(std::make_unique<RetryBackend>(std::move(limited), clock, random, retry));
}

Result<BackendPtr> OpenBackend(const std::string& repository, const Env& env, Clock& clock,
                               Random& random, RetryOptions retry) {
  STASH_ASSIGN_OR_RETURN(BackendSpec spec, ParseRepository(repository, env));
  return OpenBackend(spec, clock, random, retry);
}

}  // namespace stash::backend
