// Helpers shared by the HTTP backends for ranged GETs: building the Range
// header and checking that the answer holds exactly the requested bytes.
// Private to the backend layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/backend/backend.h"
#include "stash/backend/http.h"

namespace stash::backend {

// Parses a decimal size from a header or document; nullopt when malformed
// (servers are not trusted to send numbers, and stoull would throw).
std::optional<uint64_t> ParseU64(std::string_view text);

// Size from a HEAD answer's Content-Length, or kDataLoss naming the file.
Result<FileInfo> SizeFromHead(const std::string& location, const Handle& h,
                              const HttpResponse& resp);

// Adds "Range: bytes=a-b" (or "a-" when length is 0; nothing for the whole
// file). `header` lets Azure use x-ms-range.
void AddRangeHeader(HttpRequest* r, uint64_t offset, uint64_t length,
                    const std::string& header = "Range");

// Verifies a 200/206 answer against the request; a server that ignored the
// Range (200 with the whole file) is cut down in place.
Status CheckRange(const std::string& location, const Handle& h, const HttpResponse& resp,
                  uint64_t offset, uint64_t length, std::vector<uint8_t>* out);

}  // namespace stash::backend
