#include "backup_fs.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
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

Result<format::Node> NodeForPath(const std::string& path, std::string name,
                                 const struct stat& st, bool with_atime, NameCache& names) {
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
