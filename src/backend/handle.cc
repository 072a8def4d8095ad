#include "stash/backend/backend.h"

namespace stash::backend {

std::string_view FileTypeDir(FileType t) {
  switch (t) {
    case FileType::kConfig:
      return "config";
    case FileType::kKey:
      return "keys";
    case FileType::kSnapshot:
      return "snapshots";
    case FileType::kIndex:
      return "index";
    case FileType::kLock:
      return "locks";
    case FileType::kPack:
      return "data";
  }
  return "unknown";
}

std::string Handle::Path() const {
  if (type == FileType::kConfig) return "config";
  std::string p(FileTypeDir(type));
  p += '/';
  if (type == FileType::kPack && name.size() >= 2) {
    p += name.substr(0, 2);
    p += '/';
  }
  p += name;
  return p;
}

std::string Handle::ToString() const {
  if (type == FileType::kConfig) return "config";
  return std::string(FileTypeDir(type)) + "/" + name;
}

}  // namespace stash::backend
