#include "backup_fs.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "stash/engine/filter.h"

namespace stash::engine {

const std::string& NameCache::User(uint32_t uid) {
  std::lock_guard lock(mu_);
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
  std::lock_guard lock(mu_);
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

// Not supported by the file system, or gone meanwhile: restic's
// handleXattrErr turns these into success.
bool Benign(int err) { return err == ENOTSUP || err == ENODATA; }

ssize_t RealList(const char* path, char* list, size_t size) { return llistxattr(path, list, size); }

ssize_t RealGet(const char* path, const char* name, void* value, size_t size) {
  return lgetxattr(path, name, value, size);
}

}  // namespace

const XattrCalls& RealXattrCalls() {
  static const XattrCalls calls{RealList, RealGet};
  return calls;
}

std::string GoErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Status ReadXattrs(const std::string& path, const std::string& shown,
                  std::vector<format::ExtendedAttribute>* out, const WarnFn& warn,
                  const XattrCalls& calls) {
  out->clear();
  auto list_failed = [&shown](int err) {
    return ErrnoError(err, "NodeFromFileInfo: xattr.list " + shown);
  };
  std::string names;
  while (true) {
    // One syscall for the common case of a file without attributes.
    ssize_t len = calls.list(path.c_str(), nullptr, 0);
    if (len < 0) return Benign(errno) ? Status::Ok() : list_failed(errno);
    if (len == 0) return Status::Ok();
    names.resize(static_cast<size_t>(len));
    len = calls.list(path.c_str(), names.data(), names.size());
    if (len >= 0) {
      names.resize(static_cast<size_t>(len));
      break;
    }
    if (errno != ERANGE) return Benign(errno) ? Status::Ok() : list_failed(errno);
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
      len = calls.get(path.c_str(), name.c_str(), nullptr, 0);
      if (len <= 0) break;
      value.resize(static_cast<size_t>(len));
      len = calls.get(path.c_str(), name.c_str(), value.data(), value.size());
      if (len >= 0 || errno != ERANGE) break;
    }
    format::ExtendedAttribute attr{std::move(name), {}, false};
    if (len < 0 && Benign(errno)) {
      attr.null_value = true;
    } else if (len < 0) {
      // restic 0.14 prints exactly this (with the trailing colon and no
      // reason), leaves the attribute out and does not count an error.
      if (warn) warn("can not obtain extended attribute " + attr.name + " for " + shown + ":");
      continue;
    } else {
      value.resize(static_cast<size_t>(len));
      attr.value = std::move(value);
    }
    out->push_back(std::move(attr));
  }
  return Status::Ok();
}

Result<format::Node> NodeForPath(const std::string& path, const std::string& shown,
                                 std::string name, const struct stat& st, bool with_atime,
                                 NameCache& names, const WarnFn& warn) {
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
    // restic 0.14 records no attributes of a symlink (fillExtendedAttributes
    // returns early), so neither do we: the trees stay byte-identical.
    return n;
  }
  STASH_RETURN_IF_ERROR(ReadXattrs(path, shown, &n.extended_attributes, warn));
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
