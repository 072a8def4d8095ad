#include "stash/backend/rest.h"

#include <nlohmann/json.hpp>

#include "ranged.h"

namespace stash::backend {
namespace {
constexpr const char* kV2 = "application/vnd.x.restic.rest.v2";

std::string RelPath(const Handle& h) {
  if (h.type == FileType::kConfig) return "config";
  return std::string(FileTypeDir(h.type)) + "/" + h.name;
}
}  // namespace

RestBackend::RestBackend(RestConfig config)
    : base_(std::move(config.url)),
      user_(std::move(base_.user)),
      password_(std::move(base_.password)),
      connections_(config.connections > 0 ? config.connections : 5) {
  base_.user.clear();
  base_.password.clear();
  base_.query.clear();
  if (base_.path.empty() || base_.path.back() != '/') base_.path += '/';
  http_ = std::make_unique<http::Client>(Location(), std::move(config.http));
  http_->AddSecret(password_);
}

http::Request RestBackend::Request(std::string method, const std::string& rel,
                                   const Handle* h) const {
  http::Request r;
  r.method = std::move(method);
  r.url = base_.Origin() + base_.path + rel;
  r.user = user_;
  r.password = password_;
  if (h != nullptr) r.what = h->ToString();
  return r;
}

Status RestBackend::Create() {
  // The trailing slash matters: rclone creates a file, not a repository,
  // for "POST /repo?create=true".
  http::Request r = Request("POST", "?create=true", nullptr);
  r.what = "creating the repository";
  return http_->Do(r).status();
}

Status RestBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  // Only the config must never be replaced; any other name is its content's
  // hash (see Backend::Save), so it is written without a look first.
  if (!NamedByContent(h.type)) STASH_RETURN_IF_ERROR(MustNotExist(Location(), h, Stat(h)));
  http::Request r = Request("POST", RelPath(h), &h);
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.body = data;
  auto resp = http_->Do(r);
  if (!resp.ok() && resp.status().code() == Code::kForbidden && Stat(h).ok()) {
    // rest-server answers 403 for a file that appeared meanwhile.
    return AlreadyExistsError(Location() + ": " + h.ToString() + " already exists");
  }
  return resp.status();
}

Status RestBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                         std::vector<uint8_t>* out) {
  http::Request r = Request("GET", RelPath(h), &h);
  AddRangeHeader(&r, offset, length);
  auto resp = http_->Do(r, out);
  if (!resp.ok()) return resp.status();
  return CheckRange(Location(), h, *resp, offset, length, out);
}

Result<FileInfo> RestBackend::Stat(const Handle& h) {
  auto resp = http_->Do(Request("HEAD", RelPath(h), &h));
  if (!resp.ok()) return resp.status();
  return SizeFromHead(Location(), h, *resp);
}

Status RestBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  if (t == FileType::kConfig) {
    auto st = Stat(Handle{FileType::kConfig, "config"});
    if (!st.ok()) return st.status().code() == Code::kNotFound ? Status::Ok() : st.status();
    return fn(*st);
  }
  http::Request r = Request("GET", std::string(FileTypeDir(t)) + "/", nullptr);
  r.headers.emplace_back("Accept", kV2);
  r.what = "listing " + std::string(FileTypeDir(t));
  auto resp = http_->Do(r);
  if (!resp.ok()) {
    // A type directory that does not exist yet is empty.
    return resp.status().code() == Code::kNotFound ? Status::Ok() : resp.status();
  }
  nlohmann::json doc = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) {
    return DataLossError(Location() + ": listing " + std::string(FileTypeDir(t)) +
                         " is not a JSON array; is this a restic REST server?");
  }
  const bool v2 = resp->Header("content-type").find(kV2) != std::string::npos;
  for (const auto& item : doc) {
    FileInfo fi;
    if (v2 && item.is_object() && item.contains("name") && item["name"].is_string()) {
      fi.name = item["name"].get<std::string>();
      fi.size = item.contains("size") && item["size"].is_number_unsigned()
                    ? item["size"].get<uint64_t>()
                    : 0;
    } else if (item.is_string()) {
      // v1 gives names only; sizes cost one HEAD each.
      STASH_ASSIGN_OR_RETURN(fi, Stat(Handle{t, item.get<std::string>()}));
    } else {
      return DataLossError(Location() + ": unexpected entry in listing of " +
                           std::string(FileTypeDir(t)));
    }
    STASH_RETURN_IF_ERROR(fn(fi));
  }
  return Status::Ok();
}

Status RestBackend::Remove(const Handle& h) {
  return http_->Do(Request("DELETE", RelPath(h), &h)).status();
}

}  // namespace stash::backend
