// Helpers shared by the HTTP object stores (S3, Azure, GCS): ranged GETs
// (the Range header, and checking that the answer holds exactly the requested
// bytes), listings page by page, and the never-overwrite rule.
// Private to the backend layer.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/backend/backend.h"
#include "stash/http/client.h"

namespace stash::backend {

// Parses a decimal size from a header or document; nullopt when malformed
// (servers are not trusted to send numbers, and stoull would throw).
std::optional<uint64_t> ParseU64(std::string_view text);

// Size from a HEAD answer's Content-Length, or kDataLoss naming the file.
Result<FileInfo> SizeFromHead(const std::string& location, const Handle& h,
                              const http::Response& resp);

// Adds "Range: bytes=a-b" (or "a-" when length is 0; nothing for the whole
// file). `header` lets Azure use x-ms-range.
void AddRangeHeader(http::Request* r, uint64_t offset, uint64_t length,
                    const std::string& header = "Range");

// Verifies a 200/206 answer against the request; a server that ignored the
// Range (200 with the whole file) is cut down in place.
Status CheckRange(const std::string& location, const Handle& h, const http::Response& resp,
                  uint64_t offset, uint64_t length, std::vector<uint8_t>* out);

// "<prefix>/<type dir>/" ("<type dir>/" without a prefix): the key prefix a
// listing of `t` asks for.
std::string ListPrefix(const std::string& prefix, FileType t);
// The file name in an object key (after the last '/').
std::string KeyBaseName(std::string_view key);

// One page of an object listing and the token of the next ("" after the last).
struct ListPage {
  std::vector<FileInfo> files;
  std::string next;
};
// A whole listing: the config file through `stat` (it is an object, not a
// directory), anything else page by page from `fetch(token)`. Each page is
// complete before `fn` sees it: the callback may be slow.
Status ListPaged(FileType t, const std::function<Result<FileInfo>(const Handle&)>& stat,
                 const std::function<Result<ListPage>(const std::string& token)>& fetch,
                 const std::function<Status(const FileInfo&)>& fn);

// kAlreadyExists "<location>: <h> already exists; repository files are never
// overwritten".
Status AlreadyExistsFor(const std::string& location, const Handle& h);
// Before an upload that must create: OK when `existing` is kNotFound,
// AlreadyExistsFor when the file is there, the error otherwise.
Status MustNotExist(const std::string& location, const Handle& h, const Result<FileInfo>& existing);

}  // namespace stash::backend
