// URL parsing and percent-encoding for the HTTP backends. Credentials found
// in a URL (rest:http://user:pass@host/) are split out so they can be passed
// to the HTTP client separately and never printed.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::backend {

struct Url {
  std::string scheme;  // "http" or "https", lowercase
  std::string user;    // percent-decoded
  std::string password;
  std::string host;   // without brackets for IPv6
  int port = 0;       // 0: the scheme's default
  std::string path;   // starts with '/' (at least "/"), still percent-encoded
  std::string query;  // without the '?'

  // "scheme://host[:port]" — never includes credentials.
  std::string Origin() const;
  // "host[:port]" as sent in the Host header.
  std::string HostHeader() const;
  // Origin() + path, for messages and Location().
  std::string Redacted() const { return Origin() + path; }
};

// Parses an absolute http(s) URL. kInvalid names the problem but not the URL
// (it may carry a password).
Result<Url> ParseUrl(std::string_view text);

// Percent-encodes everything except RFC 3986 unreserved characters
// (A-Z a-z 0-9 - _ . ~); '/' is kept when keep_slash.
std::string UriEncode(std::string_view s, bool keep_slash);
std::string UriDecode(std::string_view s);

// True for an IPv4 literal or "localhost"-style single label host, where
// S3 virtual-host addressing cannot work.
bool IsIpOrSingleLabel(std::string_view host);

}  // namespace stash::backend
