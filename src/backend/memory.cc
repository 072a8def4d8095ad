#include "stash/backend/memory.h"

namespace stash::backend {

Status InMemoryBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  auto blob = std::make_shared<const std::vector<uint8_t>>(data.begin(), data.end());
  std::lock_guard lock(mu_);
  auto [it, inserted] = files_.emplace(h.Path(), std::move(blob));
  if (!inserted) {
    return AlreadyExistsError(Location() + ": " + h.ToString() +
                              " already exists; repository files are never overwritten");
  }
  return Status::Ok();
}

Status InMemoryBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                             std::vector<uint8_t>* out) {
  std::lock_guard lock(mu_);
  auto it = files_.find(h.Path());
  if (it == files_.end())
    return NotFoundError(Location() + ": " + h.ToString() + " does not exist");
  const auto& data = *it->second;
  if (offset > data.size() || (length > 0 && offset + length > data.size())) {
    return InvalidError(Location() + ": range " + std::to_string(offset) + "+" +
                        std::to_string(length) + " lies outside " + h.ToString() + " (" +
                        std::to_string(data.size()) + " bytes)");
  }
  if (length == 0) length = data.size() - offset;
  out->assign(data.begin() + offset, data.begin() + offset + length);
  return Status::Ok();
}

Result<FileInfo> InMemoryBackend::Stat(const Handle& h) {
  std::lock_guard lock(mu_);
  auto it = files_.find(h.Path());
  if (it == files_.end())
    return NotFoundError(Location() + ": " + h.ToString() + " does not exist");
  return FileInfo{h.name, it->second->size()};
}

Status InMemoryBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  std::vector<FileInfo> files;
  {
    std::lock_guard lock(mu_);
    for (const auto& [path, data] : files_) {
      if (t == FileType::kConfig) {
        if (path == "config") files.push_back(FileInfo{"config", data->size()});
        continue;
      }
      std::string_view p(path);
      std::string_view dir = FileTypeDir(t);
      if (p.size() <= dir.size() || p.substr(0, dir.size()) != dir || p[dir.size()] != '/')
        continue;
      files.push_back(FileInfo{std::string(p.substr(p.rfind('/') + 1)), data->size()});
    }
  }
  for (const FileInfo& fi : files) STASH_RETURN_IF_ERROR(fn(fi));
  return Status::Ok();
}

Status InMemoryBackend::Remove(const Handle& h) {
  std::lock_guard lock(mu_);
  if (files_.erase(h.Path()) == 0) {
    return NotFoundError(Location() + ": " + h.ToString() + " does not exist");
  }
  return Status::Ok();
}

size_t InMemoryBackend::size() const {
  std::lock_guard lock(mu_);
  return files_.size();
}

}  // namespace stash::backend
