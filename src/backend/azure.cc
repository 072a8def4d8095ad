#include "stash/backend/azure.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "digest.h"
#include "ranged.h"
#include "stash/core/base64.h"
#include "stash/core/strings.h"
#include "xml.h"

namespace stash::backend {
namespace {

constexpr const char* kApiVersion = "2021-12-02";

std::string HttpDate(SystemTime t) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

// The storage emulator's well-known account (Azurite, and Microsoft's
// emulator before it).
constexpr const char* kEmulatorAccount = "devstoreaccount1";
constexpr const char* kEmulatorKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// Azurite and other emulators serve every account on one host, the account
// being the first path segment; Azure itself never has a port or an IP.
bool PathStyleHost(const Url& url) {
  if (url.port != 0 || url.host == "localhost") return true;
  return url.host.find_first_not_of("0123456789.") == std::string::npos ||
         url.host.find(':') != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<AzureBackend>> AzureBackend::Open(AzureConfig config, Clock& clock) {
  if (config.account_name.empty() || config.container.empty()) {
    return InvalidError("azure: the account name and the container are required");
  }
  if (config.endpoint.empty() && config.account_name == kEmulatorAccount) {
    // As restic 0.14 (the Azure SDK's NewBasicClient): the emulator account
    // means the local emulator at its default port, with its key unless
    // another is given.
    config.endpoint = std::string("http://127.0.0.1:10000/") + kEmulatorAccount;
    if (config.account_key.empty()) config.account_key = kEmulatorKey;
  }
  auto key = Base64Decode(config.account_key);
  if (!key.ok() || key->empty()) {
    return InvalidError("azure: the account key of '" + config.account_name +
                        "' is not valid base64; copy it again from the storage account");
  }
  std::string ep = config.endpoint.empty()
                       ? "https://" + config.account_name + ".blob.core.windows.net"
                       : config.endpoint;
  auto url = ParseUrl(ep);
  if (!url.ok()) return Status(url.status()).Prepend("azure endpoint");
  while (!url->path.empty() && url->path.back() == '/') url->path.pop_back();
  // "http://azurite:10000" means the account's path on that emulator.
  if (url->path.empty() && PathStyleHost(*url)) url->path = "/" + config.account_name;
  while (!config.prefix.empty() && config.prefix.back() == '/') config.prefix.pop_back();
  while (!config.prefix.empty() && config.prefix.front() == '/') config.prefix.erase(0, 1);
  return std::unique_ptr<AzureBackend>(
      new AzureBackend(std::move(config), std::move(url).value(), std::move(key).value(), clock));
}

AzureBackend::AzureBackend(AzureConfig config, Url endpoint, std::string key, Clock& clock)
    : config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      key_(std::move(key)),
      clock_(clock) {
  http_ = std::make_unique<http::Client>(Location(), config_.http);
  http_->AddSecret(config_.account_key);
}

std::string AzureBackend::Location() const {
  std::string loc = "azure:" + config_.container + ":/" + config_.prefix;
  if (!config_.endpoint.empty()) loc += " at " + endpoint_.Redacted();
  return loc;
}

std::string AzureBackend::BlobName(const Handle& h) const {
  return config_.prefix.empty() ? h.Path() : config_.prefix + "/" + h.Path();
}

Result<http::Response> AzureBackend::Send(const std::string& method, const std::string& blob,
                                          std::vector<std::pair<std::string, std::string>> query,
                                          std::vector<std::pair<std::string, std::string>> headers,
                                          std::optional<std::span<const uint8_t>> body,
                                          const std::string& what, std::vector<uint8_t>* sink) {
  std::string path = endpoint_.path + "/" + config_.container;
  if (!blob.empty()) path += "/" + UriEncode(blob, true);
  headers.emplace_back("x-ms-date", HttpDate(clock_.Now()));
  headers.emplace_back("x-ms-version", kApiVersion);

  // Shared Key string-to-sign: fixed standard headers, then x-ms-* headers
  // sorted, then the canonicalized resource with sorted query parameters.
  std::map<std::string, std::string> std_headers, ms_headers;
  for (const auto& [k, v] : headers) {
    std::string lk = AsciiLower(k);
    (lk.starts_with("x-ms-") ? ms_headers : std_headers)[lk] = v;
  }
  auto get = [&](const char* name) {
    auto it = std_headers.find(name);
    return it == std_headers.end() ? std::string() : it->second;
  };
  std::string length = body.has_value() && !body->empty() ? std::to_string(body->size()) : "";
  std::string to_sign = method + "\n" + get("content-encoding") + "\n" + get("content-language") +
                        "\n" + length + "\n" + get("content-md5") + "\n" + get("content-type") +
                        "\n" + get("date") + "\n" + get("if-modified-since") + "\n" +
                        get("if-match") + "\n" + get("if-none-match") + "\n" +
                        get("if-unmodified-since") + "\n" + get("range") + "\n";
  for (const auto& [k, v] : ms_headers) to_sign += k + ":" + v + "\n";
  to_sign += "/" + config_.account_name + path;
  std::map<std::string, std::string> sorted_query;
  for (const auto& [k, v] : query) sorted_query[AsciiLower(k)] = v;
  for (const auto& [k, v] : sorted_query) to_sign += "\n" + k + ":" + v;

  http::Request r;
  r.method = method;
  r.url = endpoint_.Origin() + path;
  std::string qs;
  for (const auto& [k, v] : query) qs += (qs.empty() ? "?" : "&") + k + "=" + UriEncode(v, false);
  r.url += qs;
  r.what = what;
  r.headers = std::move(headers);
  r.headers.emplace_back("Authorization", "SharedKey " + config_.account_name + ":" +
                                              Base64Encode(HmacSha256(key_, to_sign)));
  r.body = body;
  return http_->Do(r, sink);
}

Status AzureBackend::Create() {
  auto resp = Send("PUT", "", {{"restype", "container"}}, {}, std::span<const uint8_t>(),
                   "creating container " + config_.container);
  if (!resp.ok() && resp.status().code() == Code::kConflict) return Status::Ok();  // exists
  return resp.status();
}

Status AzureBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  if (data.size() > config_.single_put_max) return SaveBlocks(h, data);
  auto resp = Send("PUT", BlobName(h), {},
                   {{"Content-Type", "application/octet-stream"},
                    {"If-None-Match", "*"},
                    {"x-ms-blob-type", "BlockBlob"}},
                   data, h.ToString());
  if (!resp.ok() && resp.status().code() == Code::kConflict) return AlreadyExistsFor(Location(), h);
  return resp.status();
}

Status AzureBackend::SaveBlocks(const Handle& h, std::span<const uint8_t> data) {
  if (Stat(h).ok()) return AlreadyExistsFor(Location(), h);
  std::string list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  int n = 0;
  for (uint64_t off = 0; off < data.size(); off += config_.block_size, ++n) {
    char raw[16];
    std::snprintf(raw, sizeof raw, "blk%08d", n);  // equal lengths, as Azure requires
    std::string id = Base64Encode(std::string_view(raw));
    auto part = data.subspan(off, std::min<uint64_t>(config_.block_size, data.size() - off));
    STASH_RETURN_IF_ERROR(Send("PUT", BlobName(h), {{"comp", "block"}, {"blockid", id}}, {}, part,
                               h.ToString() + " block " + std::to_string(n)));
    list += "<Latest>" + id + "</Latest>";
  }
  list += "</BlockList>";
  std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(list.data()), list.size());
  return Send("PUT", BlobName(h), {{"comp", "blocklist"}},
              {{"Content-Type", "application/xml"},
               {"If-None-Match", "*"},
               {"x-ms-blob-content-type", "application/octet-stream"}},
              body, h.ToString() + " block list")
      .status();
}

Status AzureBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                          std::vector<uint8_t>* out) {
  http::Request tmp;
  AddRangeHeader(&tmp, offset, length, "x-ms-range");
  auto resp = Send("GET", BlobName(h), {}, tmp.headers, std::nullopt, h.ToString(), out);
  if (!resp.ok()) return resp.status();
  return CheckRange(Location(), h, *resp, offset, length, out);
}

Result<FileInfo> AzureBackend::Stat(const Handle& h) {
  auto resp = Send("HEAD", BlobName(h), {}, {}, std::nullopt, h.ToString());
  if (!resp.ok()) return resp.status();
  return SizeFromHead(Location(), h, *resp);
}

Status AzureBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  const std::string prefix = ListPrefix(config_.prefix, t);
  auto fetch = [&](const std::string& marker) -> Result<ListPage> {
    std::vector<std::pair<std::string, std::string>> query{
        {"restype", "container"},
        {"comp", "list"},
        {"prefix", prefix},
        {"maxresults", std::to_string(config_.list_page_size)}};
    if (!marker.empty()) query.emplace_back("marker", marker);
    STASH_ASSIGN_OR_RETURN(http::Response resp, Send("GET", "", std::move(query), {}, std::nullopt,
                                                     "listing " + std::string(FileTypeDir(t))));
    ListPage page;
    for (std::string_view blob : XmlElements(resp.body, "Blob")) {
      page.files.push_back(FileInfo{KeyBaseName(XmlText(blob, "Name")),
                                    ParseU64(XmlText(blob, "Content-Length")).value_or(0)});
    }
    page.next = XmlText(resp.body, "NextMarker");
    return page;
  };
  return ListPaged(
      t, [&](const Handle& h) { return Stat(h); }, fetch, fn);
}

Status AzureBackend::Remove(const Handle& h) {
  return Send("DELETE", BlobName(h), {}, {}, std::nullopt, h.ToString()).status();
}

}  // namespace stash::backend
