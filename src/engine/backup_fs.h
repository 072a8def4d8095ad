// Private to engine (backup): file-system helpers of the archiver — lstat to
// a restic node (with cached user/group names and symlink targets), sorted
// directory listings with raw byte names, and absolute/clean paths.
//
// Thread-safety: all thread-safe (the walker's helper threads share one
// NameCache).
#pragma once

#include <sys/stat.h>

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "stash/core/result.h"
#include "stash/format/node.h"

namespace stash::engine {

// getpwuid_r/getgrgid_r results, looked up once per id. The references stay
// valid for the cache's lifetime.
class NameCache {
 public:
  const std::string& User(uint32_t uid);
  const std::string& Group(uint32_t gid);

 private:
  std::mutex mu_;
  std::unordered_map<uint32_t, std::string> users_;
  std::unordered_map<uint32_t, std::string> groups_;
};

// A warning line for the user (no trailing newline); the backup goes on.
using WarnFn = std::function<void(const std::string& message)>;

// The extended-attribute syscalls, replaceable so tests can inject the
// failures a real file system rarely produces (EIO, EACCES on one value).
struct XattrCalls {
  ssize_t (*list)(const char* path, char* list, size_t size);
  ssize_t (*get)(const char* path, const char* name, void* value, size_t size);
};
const XattrCalls& RealXattrCalls();

// The node restic 0.14 writes for `path` as lstat'ed in `st`: metadata, user
// and group names, the symlink target, extended attributes. Content/subtree
// are filled later. `shown` names the entry in messages (the recorded path).
Result<format::Node> NodeForPath(const std::string& path, const std::string& shown,
                                 std::string name, const struct stat& st, bool with_atime,
                                 NameCache& names, const WarnFn& warn);

// Extended attributes of the non-symlink `path` in the kernel's list order,
// as restic 0.14's fillExtendedAttributes stores them: none when the file
// system does not support them; a value that is gone or unsupported by the
// time it is read is kept as null; a value that cannot be read for another
// reason is left out with a warning. A list that cannot be read fails the
// entry ("NodeFromFileInfo: xattr.list <shown>: <reason>"), which restic
// reports as an error for that entry.
Status ReadXattrs(const std::string& path, const std::string& shown,
                  std::vector<format::ExtendedAttribute>* out, const WarnFn& warn,
                  const XattrCalls& calls = RealXattrCalls());

// Go's text of an errno value ("permission denied"): strerror, lower-cased.
std::string GoErrnoText(int err);

// Entry names of a directory (raw bytes, without . and ..), sorted by bytes.
Result<std::vector<std::string>> ListDirSorted(const std::string& path);

// Absolute, lexically cleaned form of `path` (relative to the working dir).
std::string AbsolutePath(const std::string& path);

// "a/b" + "c" with exactly one slash.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace stash::engine
