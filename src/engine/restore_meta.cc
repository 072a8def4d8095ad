#include "restore_meta.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stash::engine {

namespace {

Status ErrnoError(std::string_view what, const std::string& path, int err) {
  Code code = err == ENOENT                     ? Code::kNotFound
              : (err == EACCES || err == EPERM) ? Code::kForbidden
              : err == ENOSPC                   ? Code::kResourceExhausted
                                                : Code::kInternal;
  return Status(code, std::string(what) + " " + path + ": " + std::strerror(err));
}

struct timespec ToTimespec(const format::Timestamp& t) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(t.unix_sec);
  ts.tv_nsec = static_cast<long>(t.nsec);
  return ts;
}

}  // namespace

Status CreateSpecialNode(const format::Node& node, const std::string& path) {
  int rc = 0;
  switch (node.type) {
    case format::NodeType::kSymlink:
      rc = symlink(node.linktarget.c_str(), path.c_str());
      if (rc != 0) return ErrnoError("Symlink", path, errno);
      return Status::Ok();
    case format::NodeType::kFifo:
      rc = mkfifo(path.c_str(), 0600);
      if (rc != 0) return ErrnoError("Mkfifo", path, errno);
      return Status::Ok();
    case format::NodeType::kDev:
    case format::NodeType::kCharDev: {
      mode_t type = node.type == format::NodeType::kDev ? S_IFBLK : S_IFCHR;
      rc = mknod(path.c_str(), type | 0600, static_cast<dev_t>(node.device));
      if (rc != 0) return ErrnoError("Mknod", path, errno);
      return Status::Ok();
    }
    case format::NodeType::kDir:
      if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        return ErrnoError("Mkdir", path, errno);
      return Status::Ok();
    default:
      return Status(
          Code::kUnsupported,
          "filetype \"" + std::string(format::NodeTypeName(node.type)) + "\" not implemented");
  }
}

Status RestoreMetadata(const format::Node& node, const std::string& path) {
  Status first;
  if (lchown(path.c_str(), node.uid, node.gid) != 0) {
    int err = errno;
    if (!(geteuid() != 0 && (err == EPERM || err == EACCES)))
      first = ErrnoError("Lchown", path, err);
  }
  if (node.type != format::NodeType::kSymlink) {
    mode_t perm = format::StatModeFromGo(node.mode) & 07777;
    if (chmod(path.c_str(), perm) != 0 && first.ok()) first = ErrnoError("Chmod", path, errno);
  }
  for (const format::ExtendedAttribute& xa : node.extended_attributes) {
    // Best effort: the target file system may not support the namespace.
    if (lsetxattr(path.c_str(), xa.name.c_str(), xa.value.data(), xa.value.size(), 0) != 0 &&
        errno != ENOTSUP && errno != EPERM && first.ok()) {
      first = ErrnoError("Setxattr " + xa.name, path, errno);
    }
  }
  struct timespec times[2] = {ToTimespec(node.atime), ToTimespec(node.mtime)};
  if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0 && first.ok()) {
    first = ErrnoError("UtimesNano", path, errno);
  }
  return first;
}

}  // namespace stash::engine
