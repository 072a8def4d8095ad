#include "stash/backend/s3.h"

#include <ctime>

#include "digest.h"
#include "ranged.h"
#include "sigv4.h"
#include "xml.h"

namespace stash::backend {
namespace {

std::string AmzDate(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

S3Backend::S3Backend(S3Config config, Clock& clock) : config_(std::move(config)), clock_(clock) {
  while (!config_.prefix.empty() && config_.prefix.back() == '/') config_.prefix.pop_back();
  while (!config_.prefix.empty() && config_.prefix.front() == '/') config_.prefix.erase(0, 1);
  if (config_.region.empty()) config_.region = "us-east-1";
  switch (config_.lookup) {
    case BucketLookup::kPath:
      virtual_host_ = false;
      break;
    case BucketLookup::kDns:
      virtual_host_ = true;
      break;
    case BucketLookup::kAuto:
      // Virtual-host addressing needs DNS for <bucket>.<host>; only AWS
      // guarantees that, and bucket names with dots break its TLS names.
      virtual_host_ = config_.endpoint.host.ends_with("amazonaws.com") &&
                      config_.bucket.find('.') == std::string::npos;
      break;
  }
  http_ = std::make_unique<http::Client>(Location(), config_.http);
  http_->AddSecret(config_.secret_access_key);
  http_->AddSecret(config_.access_key_id);
  http_->AddSecret(config_.session_token);
}

std::string S3Backend::Location() const {
  std::string loc = "s3:" + config_.endpoint.HostHeader() + "/" + config_.bucket;
  if (!config_.prefix.empty()) loc += "/" + config_.prefix;
  return loc;
}

std::string S3Backend::Key(const Handle& h) const {
  return config_.prefix.empty() ? h.Path() : config_.prefix + "/" + h.Path();
}

std::string S3Backend::UrlFor(const std::string& key) const {
  const Url& e = config_.endpoint;
  if (virtual_host_) {
    Url v = e;
    v.host = config_.bucket + "." + e.host;
    return v.Origin() + "/" + UriEncode(key, true);
  }
  return e.Origin() + "/" + config_.bucket + (key.empty() ? "" : "/" + UriEncode(key, true));
}

Result<http::Response> S3Backend::Send(const std::string& method, const std::string& key,
                                       std::vector<std::pair<std::string, std::string>> query,
                                       std::vector<std::pair<std::string, std::string>> headers,
                                       std::optional<std::span<const uint8_t>> body,
                                       const std::string& what, std::vector<uint8_t>* sink) {
  std::string url = UrlFor(key);
  const std::string path = url.substr(url.find('/', url.find("://") + 3));
  std::string host = virtual_host_ ? config_.bucket + "." + config_.endpoint.HostHeader()
                                   : config_.endpoint.HostHeader();
  const std::string payload_hash = body.has_value() ? Hex(Sha256(*body)) : kEmptySha256;
  const std::string amz_date = AmzDate(clock_.Now());
  headers.emplace_back("host", host);
  headers.emplace_back("x-amz-date", amz_date);
  headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!config_.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", config_.session_token);
  }
  SigV4Request sr{method, path, query, headers, payload_hash};
  SigV4Key key_material{config_.access_key_id, config_.secret_access_key, config_.region};

  http::Request r;
  r.method = method;
  std::string qs = CanonicalQuery(query);
  r.url = url + (qs.empty() ? "" : "?" + qs);
  r.what = what;
  for (auto& [k, v] : headers) {
    if (k != "host") r.headers.emplace_back(k, v);
  }
  if (!config_.access_key_id.empty()) {
    r.headers.emplace_back("Authorization", SignV4(sr, key_material, amz_date));
  }
  r.body = body;
  return http_->Do(r, sink);
}

Status S3Backend::Create() {
  auto head = Send("HEAD", "", {}, {}, std::nullopt, "checking bucket " + config_.bucket);
  if (head.ok()) return Status::Ok();
  if (head.status().code() != Code::kNotFound) return head.status();
  std::string xml;
  if (config_.region != "us-east-1") {
    xml =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        XmlEscape(config_.region) + "</LocationConstraint></CreateBucketConfiguration>";
  }
  std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(xml.data()), xml.size());
  auto put = Send("PUT", "", {}, {}, body, "creating bucket " + config_.bucket);
  // Another client may have won the race; the bucket exists either way.
  if (!put.ok() && put.status().code() == Code::kConflict) return Status::Ok();
  return put.status();
}

Status S3Backend::Save(const Handle& h, std::span<const uint8_t> data) {
  // Only the config must never be replaced; any other name is its content's
  // hash, so writing it again rewrites the same bytes and needs no look
  // first (a round trip per file; restic does not look either).
  if (!NamedByContent(h.type)) STASH_RETURN_IF_ERROR(MustNotExist(Location(), h, Stat(h)));
  // A conditional write where the store supports it (AWS since 2024, MinIO):
  // a concurrent writer of the same name gets 412 instead of overwriting.
  // Stores that do not know the header ignore it; the check above is then
  // all there is (CreatesAtomically() stays false).
  auto resp = Send("PUT", Key(h), {},
                   {{"Content-Type", "application/octet-stream"}, {"If-None-Match", "*"}}, data,
                   h.ToString());
  if (!resp.ok() && resp.status().code() == Code::kFailedPrecondition) {
    return AlreadyExistsFor(Location(), h);
  }
  if (!resp.ok() && resp.status().code() == Code::kUnsupported) {
    // 501 NotImplemented: an older store that refuses the header.
    return Send("PUT", Key(h), {}, {{"Content-Type", "application/octet-stream"}}, data,
                h.ToString())
        .status();
  }
  return resp.status();
}

Status S3Backend::Load(const Handle& h, uint64_t offset, uint64_t length,
                       std::vector<uint8_t>* out) {
  std::vector<std::pair<std::string, std::string>> headers;
  http::Request tmp;
  AddRangeHeader(&tmp, offset, length);
  for (auto& kv : tmp.headers) headers.emplace_back("range", kv.second);
  auto resp = Send("GET", Key(h), {}, std::move(headers), std::nullopt, h.ToString(), out);
  if (!resp.ok()) return resp.status();
  return CheckRange(Location(), h, *resp, offset, length, out);
}

Result<FileInfo> S3Backend::Stat(const Handle& h) {
  auto resp = Send("HEAD", Key(h), {}, {}, std::nullopt, h.ToString());
  if (!resp.ok()) return resp.status();
  return SizeFromHead(Location(), h, *resp);
}

Status S3Backend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  const std::string prefix = ListPrefix(config_.prefix, t);
  auto fetch = [&](const std::string& token) -> Result<ListPage> {
    std::vector<std::pair<std::string, std::string>> query{
        {"list-type", "2"},
        {"prefix", prefix},
        {"max-keys", std::to_string(config_.list_page_size)}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    STASH_ASSIGN_OR_RETURN(http::Response resp, Send("GET", "", std::move(query), {}, std::nullopt,
                                                     "listing " + std::string(FileTypeDir(t))));
    ListPage page;
    for (std::string_view item : XmlElements(resp.body, "Contents")) {
      page.files.push_back(
          FileInfo{KeyBaseName(XmlText(item, "Key")), ParseU64(XmlText(item, "Size")).value_or(0)});
    }
    if (XmlText(resp.body, "IsTruncated") == "true") {
      page.next = XmlText(resp.body, "NextContinuationToken");
    }
    return page;
  };
  return ListPaged(
      t, [&](const Handle& h) { return Stat(h); }, fetch, fn);
}

Status S3Backend::Remove(const Handle& h) {
  // S3 answers 204 for a missing key too; the contract lets that be Ok
  // rather than spend a HEAD on every removal (locks, prune, forget).
  return Send("DELETE", Key(h), {}, {}, std::nullopt, h.ToString()).status();
}

}  // namespace stash::backend
