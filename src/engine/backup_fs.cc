#include "backup_fs.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "stash/engine/filter.h"

namespace stash::engine {

const std::string& NameCache::User(uint32_t uid) {
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  struct passwd pw {};
  struct passwd* res = nullptr;
  std::vector<char> buf(16384);
  std::string name;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res) name = res->pw_name;
  return users_.emplace(uid, std::move(name)).first->second;
}

const std::string& NameCache::Group(uint32_t gid) {
  auto it = groups_.find(gid);
  if (it != groups_.end()) return it->second;
  struct group gr {};
  struct group* res = nullptr;
  std::vector<char> buf(16384);
  std::string name;
  if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &res) == 0 && res) name = res->gr_name;
  return groups_.emplace(gid, std::move(name)).first->second;
}

namespace {

// Not supported by the file system, or gone meanwhile: no attributes (as
// restic's handleXattrErr).
bool NoXattrs(int err) { return err == ENOTSUP || err == ENODATA; }

}  // namespace

Status ReadXattrs(const std::string& path, std::vector<format::ExtendedAttribute>* out) {
  out->clear();
  std::string names;
  while (true) {
    // One syscall for the common case of a file without attributes.
    ssize_t len = llistxattr(path.c_str(), nullptr, 0);
    if (len < 0) return NoXattrs(errno) ? Status::Ok() : ErrnoError(errno, "listxattr " + path);
    if (len == 0) return Status::Ok();
    names.resize(static_cast<size_t>(len));
    len = llistxattr(path.c_str(), names.data(), names.size());
    if (len >= 0) {
      names.resize(static_cast<size_t>(len));
      break;
    }
    if (errno != ERANGE) {
      return NoXattrs(errno) ? Status::Ok() : ErrnoError(errno, "listxattr " + path);
    }
  }
  // The kernel's order, which is the order restic 0.14 stores.
  for (size_t pos = 0; pos < names.size();) {
    size_t end = names.find('\0', pos);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    std::string value;
    ssize_t len = 0;
    while (true) {
      len = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
      if (len <= 0) break;
      value.resize(static_cast<size_t>(len));
      len = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (len >= 0 || errno != ERANGE) break;
    }
    // restic 0.14 leaves out an attribute it cannot read and keeps the node.
    if (len < 0) continue;
    value.resize(static_cast<size_t>(len));
    out->push_back(format::ExtendedAttribute{std::move(name), std::move(value)});
  }
  return Status::Ok();
}

Result<format::Node> NodeForPath(const std::string& path, std::string name, const struct stat& st,
                                 bool with_atime, NameCache& names) {
  format::Node n = format::NodeFromStat(std::move(name), st, with_atime);
  n.user = names.User(n.uid);
  n.group = names.Group(n.gid);
  if (n.type == format::NodeType::kSymlink) {
    std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, 255)) + 1, '\0');
    while (true) {
      ssize_t len = readlink(path.c_str(), target.data(), target.size());
      if (len < 0) return ErrnoError(errno, "readlink " + path);
      if (static_cast<size_t>(len) < target.size()) {
        target.resize(static_cast<size_t>(len));
        break;
      }
      target.resize(target.size() * 2);
    }
    n.linktarget = std::move(target);
  }
  STASH_RETURN_IF_ERROR(ReadXattrs(path, &n.extended_attributes));
  return n;
}

Result<std::vector<std::string>> ListDirSorted(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(path.c_str()), closedir);
  if (!dir) return ErrnoError(errno, "open " + path);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = readdir(dir.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
    errno = 0;
  }
  if (errno != 0) return ErrnoError(errno, "readdirnames " + path);
  std::sort(names.begin(), names.end());
  return names;
}

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return GoPathClean(path);
  char buf[4096];
  std::string cwd = getcwd(buf, sizeof buf) ? buf : "/";
  return GoPathClean(cwd + "/" + path);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace stash::engine
