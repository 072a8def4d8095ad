// The HTTP/1.1 text the server reads and writes, apart from the sockets:
// a parsed request (Boost.Beast) to an HttpRequest, responses and chunks to
// bytes, and the Status answers for requests the server refuses before any
// handler sees them (malformed, too large, too slow, too many).
//
// Thread-safety: stateless free functions.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

#include "http_server.h"

namespace stash::api {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Decodes the target (path and query, invalid UTF-8 replaced by U+FFFD) and
// the headers; moves the body.
HttpRequest ToHttpRequest(BeastRequest&& req);

// Status line and headers of a response (ends with the blank line). With
// `chunked`, Transfer-Encoding: chunked instead of a Content-Length.
std::string ResponseHead(const HttpResponse& r, bool keep_alive, bool chunked);
// A whole response with its body.
std::string SerializeResponse(const HttpResponse& r, bool keep_alive);
// One chunk of a chunked body; "" for an empty `data`.
std::string Chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// A Kubernetes Status answer the server itself gives (Connection: close).
HttpResponse ServerStatus(int code, const std::string& reason, const std::string& message);

// The answer to a request the parser rejected: 413 for a body or a
// Content-Length over the limit (`raw_head` holds the request's bytes, to
// tell an oversized Content-Length from a malformed one), 431 for headers
// over the limit, 400 otherwise.
HttpResponse ParseErrorResponse(const boost::system::error_code& ec, std::string_view raw_head,
                                size_t max_body, size_t max_header);

}  // namespace stash::api
