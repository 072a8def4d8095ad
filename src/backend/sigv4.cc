#include "sigv4.h"

#include <algorithm>
#include <cctype>

#include "digest.h"
#include "stash/backend/url.h"

namespace stash::backend {

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [k, v] : query) {
    k = UriEncode(k, false);
    v = UriEncode(v, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string SignV4(const SigV4Request& r, const SigV4Key& key, const std::string& amz_date) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : r.headers) {
    std::string n = name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    // Trim and collapse inner runs of spaces, as the specification asks.
    std::string v;
    bool space = false;
    for (char c : value) {
      if (c == ' ' || c == '\t') {
        space = !v.empty();
        continue;
      }
      if (space) v += ' ';
      space = false;
      v += c;
    }
    headers.emplace_back(std::move(n), std::move(v));
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [n, v] : headers) {
    canonical_headers += n + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += n;
  }
  const std::string canonical_request = r.method + "\n" + r.canonical_uri + "\n" +
                                        CanonicalQuery(r.query) + "\n" + canonical_headers + "\n" +
                                        signed_headers + "\n" + r.payload_sha256_hex;
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + key.region + "/" + key.service + "/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Hex(Sha256(canonical_request));
  std::string k = HmacSha256("AWS4" + key.secret_access_key, date);
  k = HmacSha256(k, key.region);
  k = HmacSha256(k, key.service);
  k = HmacSha256(k, "aws4_request");
  const std::string signature = Hex(HmacSha256(k, string_to_sign));
  return "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + scope +
         ",SignedHeaders=" + signed_headers + ",Signature=" + signature;
}

}  // namespace stash::backend
