// Helpers shared by the HTTP backends for ranged GETs: building the Range
// header and checking that the answer holds exactly the requested bytes.
// Private to the backend layer.
#pragma once

#include <string>
#include <vector>

#include "stash/backend/backend.h"
#include "stash/backend/http.h"

namespace stash::backend {

// Adds "Range: bytes=a-b" (or "a-" when length is 0; nothing for the whole
// file). `header` lets Azure use x-ms-range.
void AddRangeHeader(HttpRequest* r, uint64_t offset, uint64_t length,
                    const std::string& header = "Range");

// Verifies a 200/206 answer against the request; a server that ignored the
// Range (200 with the whole file) is cut down in place.
Status CheckRange(const std::string& location, const Handle& h, const HttpResponse& resp,
                  uint64_t offset, uint64_t length, std::vector<uint8_t>* out);

}  // namespace stash::backend
