// Private to engine (backup): file-system helpers of the archiver — lstat to
// a restic node (with cached user/group names and symlink targets), sorted
// directory listings with raw byte names, and absolute/clean paths.
//
// Thread-safety: NameCache is not thread-safe (the walker owns it); the free
// functions are.
#pragma once

#include <sys/stat.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "stash/core/result.h"
#include "stash/format/node.h"

namespace stash::engine {

// getpwuid_r/getgrgid_r results, looked up once per id.
class NameCache {
 public:
  const std::string& User(uint32_t uid);
  const std::string& Group(uint32_t gid);

 private:
  std::unordered_map<uint32_t, std::string> users_;
  std::unordered_map<uint32_t, std::string> groups_;
};

// The node restic 0.14 writes for `path` as lstat'ed in `st`: metadata, user
// and group names, the symlink target, extended attributes. Content/subtree are filled later.
Result<format::Node> NodeForPath(const std::string& path, std::string name, const struct stat& st,
                                 bool with_atime, NameCache& names);

// Extended attributes of `path` (not following a symlink) in the kernel's
// list order, as restic 0.14 stores them; none when the file system does not
// support them.
Status ReadXattrs(const std::string& path, std::vector<format::ExtendedAttribute>* out);

// Entry names of a directory (raw bytes, without . and ..), sorted by bytes.
Result<std::vector<std::string>> ListDirSorted(const std::string& path);

// Absolute, lexically cleaned form of `path` (relative to the working dir).
std::string AbsolutePath(const std::string& path);

// "a/b" + "c" with exactly one slash.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace stash::engine
