#include "stash/backend/gcs.h"

#include <nlohmann/json.hpp>

#include "digest.h"
#include "ranged.h"
#include "stash/core/base64.h"

namespace stash::backend {
namespace {
constexpr const char* kScope = "https://www.googleapis.com/auth/devstorage.read_write";
constexpr auto kRefreshMargin = std::chrono::minutes(5);

// GCS sends sizes as decimal strings (int64 in JSON strings).
std::optional<uint64_t> JsonSize(const nlohmann::json& v) {
  if (v.is_string()) return ParseU64(v.get<std::string>());
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return std::nullopt;
}

int64_t UnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
}  // namespace

Result<ServiceAccountKey> ParseServiceAccountKey(const std::string& json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return InvalidError("the GCS service-account key is not JSON; give the key file's contents");
  }
  ServiceAccountKey key;
  auto str = [&](const char* name, const char* fallback) {
    return doc.contains(name) && doc[name].is_string() ? doc[name].get<std::string>()
                                                       : std::string(fallback);
  };
  key.client_email = str("client_email", "");
  key.private_key = str("private_key", "");
  key.token_uri = str("token_uri", "https://oauth2.googleapis.com/token");
  if (key.client_email.empty() || key.private_key.empty()) {
    return InvalidError(
        "the GCS service-account key lacks client_email or private_key; create a JSON key for a "
        "service account");
  }
  return key;
}

Result<std::string> MakeJwtAssertion(const ServiceAccountKey& key, SystemTime now) {
  const int64_t iat = UnixSeconds(now);
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  nlohmann::json claims = {{"iss", key.client_email},
                           {"scope", kScope},
                           {"aud", key.token_uri},
                           {"iat", iat},
                           {"exp", iat + 3600}};
  std::string signing_input = Base64Encode(header.dump(), Base64Encoding::kRawUrl) + "." +
                              Base64Encode(claims.dump(), Base64Encoding::kRawUrl);
  STASH_ASSIGN_OR_RETURN(std::string sig, SignRs256(key.private_key, signing_input));
  return signing_input + "." + Base64Encode(sig, Base64Encoding::kRawUrl);
}

Result<std::unique_ptr<GcsBackend>> GcsBackend::Open(GcsConfig config, Clock& clock) {
  if (config.bucket.empty()) return InvalidError("gs: the bucket name is required");
  std::optional<ServiceAccountKey> key;
  if (!config.emulator) {
    if (config.service_account_json.empty()) {
      return InvalidError(
          "gs:" + config.bucket +
          ": no credentials; set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file");
    }
    STASH_ASSIGN_OR_RETURN(key, ParseServiceAccountKey(config.service_account_json));
  }
  std::string ep = config.endpoint.empty() ? "https://storage.googleapis.com" : config.endpoint;
  if (ep.find("://") == std::string::npos) ep = "http://" + ep;  // STORAGE_EMULATOR_HOST=host:port
  auto url = ParseUrl(ep);
  if (!url.ok()) return Status(url.status()).Prepend("gcs endpoint");
  while (!config.prefix.empty() && config.prefix.back() == '/') config.prefix.pop_back();
  while (!config.prefix.empty() && config.prefix.front() == '/') config.prefix.erase(0, 1);
  return std::unique_ptr<GcsBackend>(
      new GcsBackend(std::move(config), std::move(url).value(), std::move(key), clock));
}

GcsBackend::GcsBackend(GcsConfig config, Url endpoint, std::optional<ServiceAccountKey> key,
                       Clock& clock)
    : config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      key_(std::move(key)),
      clock_(clock) {
  http_ = std::make_unique<http::Client>(Location(), config_.http);
  if (key_) http_->AddSecret(key_->private_key);
}

std::string GcsBackend::Location() const {
  std::string loc = "gs:" + config_.bucket + ":/" + config_.prefix;
  if (!config_.endpoint.empty()) loc += " at " + endpoint_.Origin();
  return loc;
}

std::string GcsBackend::ObjectName(const Handle& h) const {
  return config_.prefix.empty() ? h.Path() : config_.prefix + "/" + h.Path();
}

std::string GcsBackend::ObjectUrl(const Handle& h) const {
  return endpoint_.Origin() + "/storage/v1/b/" + UriEncode(config_.bucket, false) + "/o/" +
         UriEncode(ObjectName(h), false);
}

Result<std::string> GcsBackend::Token() {
  std::lock_guard lock(token_mu_);
  const SystemTime now = clock_.Now();
  if (!token_.empty() && now + kRefreshMargin < token_expiry_) return token_;
  STASH_ASSIGN_OR_RETURN(std::string jwt, MakeJwtAssertion(*key_, now));
  std::string form =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + jwt;
  http::Request r;
  r.method = "POST";
  r.url = key_->token_uri;
  r.what = "fetching an OAuth2 token for " + key_->client_email;
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(form.data()), form.size());
  STASH_ASSIGN_OR_RETURN(http::Response resp, http_->Do(r));
  nlohmann::json doc = nlohmann::json::parse(resp.body, nullptr, false);
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string()) {
    return UnauthorizedError(Location() + ": the token endpoint " + key_->token_uri +
                             " gave no access_token; check the service-account key");
  }
  token_ = doc["access_token"].get<std::string>();
  int64_t expires_in = doc.contains("expires_in") && doc["expires_in"].is_number_integer()
                           ? doc["expires_in"].get<int64_t>()
                           : 3600;
  token_expiry_ = now + std::chrono::seconds(expires_in);
  return token_;
}

Result<http::Response> GcsBackend::Send(http::Request r, std::vector<uint8_t>* sink) {
  if (key_) {
    STASH_ASSIGN_OR_RETURN(std::string token, Token());
    r.headers.emplace_back("Authorization", "Bearer " + token);
  }
  return http_->Do(r, sink);
}

Status GcsBackend::Create() {
  if (config_.emulator) return Status::Ok();  // the emulator creates buckets on first use
  http::Request get;
  get.url = endpoint_.Origin() + "/storage/v1/b/" + UriEncode(config_.bucket, false);
  get.what = "checking bucket " + config_.bucket;
  auto resp = Send(get);
  if (resp.ok()) return Status::Ok();
  if (resp.status().code() != Code::kNotFound) return resp.status();
  if (config_.project_id.empty()) {
    return FailedPreconditionError(Location() + ": bucket " + config_.bucket +
                                   " does not exist; set GOOGLE_PROJECT_ID so it can be created");
  }
  std::string body = nlohmann::json{{"name", config_.bucket}}.dump();
  http::Request post;
  post.method = "POST";
  post.url = endpoint_.Origin() + "/storage/v1/b?project=" + UriEncode(config_.project_id, false);
  post.what = "creating bucket " + config_.bucket;
  post.headers.emplace_back("Content-Type", "application/json");
  post.body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  auto created = Send(post);
  if (!created.ok() && created.status().code() == Code::kConflict) return Status::Ok();
  return created.status();
}

Status GcsBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  // Only the config must never be replaced; any other name is its content's
  // hash (see Backend::Save), so it is written without a look first. GCS
  // refuses an existing name in the request itself (ifGenerationMatch=0,
  // 412); the look is for stores that ignore it (the Firebase emulator).
  if (!NamedByContent(h.type)) STASH_RETURN_IF_ERROR(MustNotExist(Location(), h, Stat(h)));
  http::Request r;
  r.method = "POST";
  // ifGenerationMatch=0: only create, so a concurrent writer cannot be
  // overwritten between the check above and this upload.
  r.url = endpoint_.Origin() + "/upload/storage/v1/b/" + UriEncode(config_.bucket, false) +
          "/o?uploadType=media&ifGenerationMatch=0&name=" + UriEncode(ObjectName(h), false);
  r.what = h.ToString();
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.body = data;
  auto resp = Send(r);
  if (!resp.ok() && resp.status().code() == Code::kFailedPrecondition) {
    return AlreadyExistsFor(Location(), h);
  }
  return resp.status();
}

Status GcsBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                        std::vector<uint8_t>* out) {
  http::Request r;
  r.url = ObjectUrl(h) + "?alt=media";
  r.what = h.ToString();
  AddRangeHeader(&r, offset, length);
  auto resp = Send(r, out);
  if (!resp.ok()) return resp.status();
  return CheckRange(Location(), h, *resp, offset, length, out);
}

Result<FileInfo> GcsBackend::Stat(const Handle& h) {
  http::Request r;
  r.url = ObjectUrl(h);
  r.what = h.ToString();
  STASH_ASSIGN_OR_RETURN(http::Response resp, Send(r));
  nlohmann::json doc = nlohmann::json::parse(resp.body, nullptr, false);
  if (!doc.is_object() || !doc.contains("size")) {
    return DataLossError(Location() + ": metadata of " + h.ToString() + " has no size");
  }
  auto n = JsonSize(doc["size"]);
  if (!n) return DataLossError(Location() + ": metadata of " + h.ToString() + " has a bad size");
  return FileInfo{h.name, *n};
}

Status GcsBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  const std::string prefix = ListPrefix(config_.prefix, t);
  auto fetch = [&](const std::string& token) -> Result<ListPage> {
    http::Request r;
    r.url = endpoint_.Origin() + "/storage/v1/b/" + UriEncode(config_.bucket, false) +
            "/o?prefix=" + UriEncode(prefix, false) +
            "&maxResults=" + std::to_string(config_.list_page_size);
    if (!token.empty()) r.url += "&pageToken=" + UriEncode(token, false);
    r.what = "listing " + std::string(FileTypeDir(t));
    auto resp = Send(r);
    // The emulator answers 404 for a bucket nobody wrote to yet.
    if (!resp.ok() && resp.status().code() == Code::kNotFound) return ListPage{};
    if (!resp.ok()) return resp.status();
    nlohmann::json doc = nlohmann::json::parse(resp->body, nullptr, false);
    if (!doc.is_object()) return DataLossError(Location() + ": listing is not JSON");
    ListPage page;
    for (const auto& item : doc.value("items", nlohmann::json::array())) {
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) continue;
      auto size = item.contains("size") ? JsonSize(item["size"]) : std::nullopt;
      page.files.push_back(
          FileInfo{KeyBaseName(item["name"].get<std::string>()), size.value_or(0)});
    }
    if (doc.contains("nextPageToken") && doc["nextPageToken"].is_string()) {
      page.next = doc["nextPageToken"].get<std::string>();
    }
    return page;
  };
  return ListPaged(
      t, [&](const Handle& h) { return Stat(h); }, fetch, fn);
}

Status GcsBackend::Remove(const Handle& h) {
  http::Request r;
  r.method = "DELETE";
  r.url = ObjectUrl(h);
  r.what = h.ToString();
  return Send(r).status();
}

}  // namespace stash::backend
