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
                              const http::Response& resp) {
  auto size = ParseU64(resp.Header("content-length"));
  if (!size) {
    return DataLossError(location + ": HEAD " + h.ToString() +
                         " gave no usable Content-Length; is this the right server?");
  }
  return FileInfo{h.name, *size};
}

void AddRangeHeader(http::Request* r, uint64_t offset, uint64_t length, const std::string& header) {
  if (offset == 0 && length == 0) return;
  std::string v = "bytes=" + std::to_string(offset) + "-";
  if (length > 0) v += std::to_string(offset + length - 1);
  r->headers.emplace_back(header, v);
}

Status CheckRange(const std::string& location, const Handle& h, const http::Response& resp,
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

std::string ListPrefix(const std::string& prefix, FileType t) {
  return (prefix.empty() ? "" : prefix + "/") + std::string(FileTypeDir(t)) + "/";
}

std::string KeyBaseName(std::string_view key) {
  size_t slash = key.rfind('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

Status ListPaged(FileType t, const std::function<Result<FileInfo>(const Handle&)>& stat,
                 const std::function<Result<ListPage>(const std::string& token)>& fetch,
                 const std::function<Status(const FileInfo&)>& fn) {
  if (t == FileType::kConfig) {
    auto st = stat(Handle{FileType::kConfig, "config"});
    if (!st.ok()) return st.status().code() == Code::kNotFound ? Status::Ok() : st.status();
    return fn(*st);
  }
  std::string token;
  do {
    STASH_ASSIGN_OR_RETURN(ListPage page, fetch(token));
    for (const FileInfo& fi : page.files) STASH_RETURN_IF_ERROR(fn(fi));
    token = std::move(page.next);
  } while (!token.empty());
  return Status::Ok();
}

Status AlreadyExistsFor(const std::string& location, const Handle& h) {
  return AlreadyExistsError(location + ": " + h.ToString() +
                            " already exists; repository files are never overwritten");
}

Status MustNotExist(const std::string& location, const Handle& h,
                    const Result<FileInfo>& existing) {
  if (existing.ok()) return AlreadyExistsFor(location, h);
  if (existing.status().code() != Code::kNotFound) return existing.status();
  return Status::Ok();
}

}  // namespace stash::backend
