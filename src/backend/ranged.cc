#include "ranged.h"

#include <charconv>
#include <cstring>

namespace stash::backend {

std::optional<uint64_t> ParseU64(std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

Result<FileInfo> SizeFromHead(const std::string& location, const Handle& h,
                              const HttpResponse& resp) {
  auto size = ParseU64(resp.Header("content-length"));
  if (!size) {
    return DataLossError(location + ": HEAD " + h.ToString() +
                         " gave no usable Content-Length; is this the right server?");
  }
  return FileInfo{h.name, *size};
}

void AddRangeHeader(HttpRequest* r, uint64_t offset, uint64_t length, const std::string& header) {
  if (offset == 0 && length == 0) return;
  std::string v = "bytes=" + std::to_string(offset) + "-";
  if (length > 0) v += std::to_string(offset + length - 1);
  r->headers.emplace_back(header, v);
}

Status CheckRange(const std::string& location, const Handle& h, const HttpResponse& resp,
                  uint64_t offset, uint64_t length, std::vector<uint8_t>* out) {
  const bool ranged = offset != 0 || length != 0;
  if (ranged && resp.status == 200) {
    if (offset > out->size()) {
      return InvalidError(location + ": range starts at " + std::to_string(offset) +
                          " beyond the end of " + h.ToString());
    }
    out->erase(out->begin(), out->begin() + static_cast<long>(offset));
    if (length > 0 && out->size() > length) out->resize(length);
  }
  if (length > 0 && out->size() != length) {
    return InvalidError(location + ": " + h.ToString() + ": asked for " + std::to_string(length) +
                        " bytes at offset " + std::to_string(offset) + ", got " +
                        std::to_string(out->size()) + " (range outside the file?)");
  }
  return Status::Ok();
}

}  // namespace stash::backend
