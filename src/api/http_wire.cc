#include "http_wire.h"

#include <algorithm>
#include <cctype>

#include "decode.h"
#include "errors.h"
#include "stash/core/strings.h"

namespace stash::api {

namespace http = boost::beast::http;

namespace {

std::string Decoded(std::string_view s, bool plus_is_space) {
  return ToValidUtf8(UrlDecode(s, plus_is_space));
}

// The value of the request's (first) Content-Length header in its raw
// bytes, and how many there are.
std::string_view RawContentLength(std::string_view head, int* count) {
  *count = 0;
  std::string_view value;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos || eol == pos) break;
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || AsciiLower(line.substr(0, colon)) != "content-length") {
      continue;
    }
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (++*count == 1) value = v;
  }
  return value;
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  const std::string want = AsciiLower(name);
  for (const auto& [k, v] : headers) {
    if (k == want) return v;
  }
  return "";
}

void ParseRequestTarget(std::string_view target, HttpRequest* req) {
  size_t q = target.find('?');
  req->path = Decoded(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    std::string key = Decoded(kv.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : Decoded(kv.substr(eq + 1), true);
    if (!key.empty()) {
      req->query[key] = value;
      req->query_list.emplace_back(key, value);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

HttpRequest ToHttpRequest(BeastRequest&& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  ParseRequestTarget(std::string_view(req.target().data(), req.target().size()), &r);
  for (const auto& field : req) {
    std::string_view name(field.name_string().data(), field.name_string().size());
    std::string_view value(field.value().data(), field.value().size());
    r.headers.emplace_back(AsciiLower(name), ToValidUtf8(value));
    if (r.headers.back().first.starts_with("impersonate-")) {
      r.impersonation.push_back(r.headers.back());
    }
  }
  r.accept = r.Header("accept");
  r.content_type = r.Header("content-type");
  r.authorization = std::string(req[http::field::authorization]);
  r.body = std::move(req.body());
  return r;
}

std::string ResponseHead(const HttpResponse& r, bool keep_alive, bool chunked) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " ";
  head += std::string(http::obsolete_reason(static_cast<http::status>(r.status)));
  head += "\r\n";
  if (r.status != 101) {
    head += "Content-Type: " + r.content_type + "\r\n";
    head += "Cache-Control: no-cache, private\r\n";
    head += "X-Content-Type-Options: nosniff\r\n";
  }
  for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
  if (r.status != 101) {
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\n";
    } else {
      head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    if (!keep_alive) head += "Connection: close\r\n";
  }
  head += "\r\n";
  return head;
}

std::string SerializeResponse(const HttpResponse& r, bool keep_alive) {
  std::string out = ResponseHead(r, keep_alive, false);
  out += r.body;
  return out;
}

std::string Chunk(std::string_view data) {
  if (data.empty()) return "";
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size, static_cast<size_t>(n));
  out += data;
  out += "\r\n";
  return out;
}

HttpResponse ServerStatus(int code, const std::string& reason, const std::string& message) {
  return StatusResponse(code, reason, message);
}

HttpResponse ParseErrorResponse(const boost::system::error_code& ec, std::string_view raw_head,
                                size_t max_body, size_t max_header) {
  const std::string limit = std::to_string(max_body);
  if (ec == http::error::body_limit) {
    return ServerStatus(413, "RequestEntityTooLarge",
                        "Request entity too large: limit is " + limit);
  }
  if (ec == http::error::header_limit) {
    return ServerStatus(431, "RequestHeaderFieldsTooLarge",
                        "the request's header is larger than this server's limit of " +
                            std::to_string(max_header) + " bytes");
  }
  if (ec == http::error::bad_content_length) {
    int count = 0;
    std::string_view value = RawContentLength(raw_head, &count);
    bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
    if (count == 1 && digits) {
      return ServerStatus(413, "RequestEntityTooLarge",
                          "Request entity too large: limit is " + limit);
    }
    return ServerStatus(
        400, "BadRequest",
        "the request's Content-Length header " +
            (count > 1 ? std::string("appears more than once")
                       : "\"" + ToValidUtf8(value.substr(0, 64)) + "\" is not a number of bytes"));
  }
  return ServerStatus(400, "BadRequest",
                      "malformed HTTP request: " + ToValidUtf8(ec.message()) +
                          " (send HTTP/1.1 with a valid request line and headers)");
}

}  // namespace stash::api
