// Node: one entry of a restic tree blob (a file, directory, symlink, device,
// fifo or socket with its metadata), with every field restic 0.14 writes plus
// linktarget_raw from restic 0.16+. Encoding lives in tree.h.
//
// Also the mapping between POSIX st_mode and Go's os.FileMode bits, which is
// what restic stores in "mode".
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/format/time.h"

namespace stash::format {

enum class NodeType { kFile, kDir, kSymlink, kDev, kCharDev, kFifo, kSocket, kIrregular };

// "file", "dir", "symlink", "dev", "chardev", "fifo", "socket", "irregular".
std::string_view NodeTypeName(NodeType type);
std::optional<NodeType> ParseNodeType(std::string_view name);

// Go os.FileMode bits (io/fs).
inline constexpr uint32_t kGoModeDir = 1u << 31;
inline constexpr uint32_t kGoModeAppend = 1u << 30;
inline constexpr uint32_t kGoModeExclusive = 1u << 29;
inline constexpr uint32_t kGoModeTemporary = 1u << 28;
inline constexpr uint32_t kGoModeSymlink = 1u << 27;
inline constexpr uint32_t kGoModeDevice = 1u << 26;
inline constexpr uint32_t kGoModeNamedPipe = 1u << 25;
inline constexpr uint32_t kGoModeSocket = 1u << 24;
inline constexpr uint32_t kGoModeSetuid = 1u << 23;
inline constexpr uint32_t kGoModeSetgid = 1u << 22;
inline constexpr uint32_t kGoModeCharDevice = 1u << 21;
inline constexpr uint32_t kGoModeSticky = 1u << 20;
inline constexpr uint32_t kGoModeIrregular = 1u << 19;
inline constexpr uint32_t kGoModePerm = 0777;

// st_mode → the Go FileMode restic stores: permission bits, the type bits
// (dir, symlink, device, char device, named pipe, socket) and
// setuid/setgid/sticky. A regular file has no type bit.
uint32_t GoModeFromStat(mode_t st_mode);
// Go FileMode → st_mode (type S_IF* bits plus 07777). Unknown type bits map to
// a regular file.
mode_t StatModeFromGo(uint32_t go_mode);
// The node type implied by a Go FileMode's type bits.
NodeType NodeTypeFromGoMode(uint32_t go_mode);

struct ExtendedAttribute {
  std::string name;
  std::string value;  // raw bytes; base64 in JSON
  // Go's nil []byte ("value":null): restic 0.14 keeps an attribute whose
  // value vanished between listing and reading that way.
  bool null_value = false;
  friend bool operator==(const ExtendedAttribute&, const ExtendedAttribute&) = default;
};

struct Node {
  std::string name;  // raw bytes (any byte but '/' and NUL on POSIX)
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // Go FileMode; omitted when 0
  Timestamp mtime;
  Timestamp atime;
  Timestamp ctime;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;   // omitted when empty
  std::string group;  // omitted when empty
  uint64_t inode = 0;
  uint64_t device_id = 0;  // st_dev
  uint64_t size = 0;       // files only
  uint64_t links = 0;      // st_nlink: file, symlink, dev, chardev
  // Raw bytes. When not valid UTF-8 the encoder also writes linktarget_raw
  // (restic 0.16+) so the exact bytes survive; 0.14 ignores that key.
  std::string linktarget;
  std::vector<ExtendedAttribute> extended_attributes;
  uint64_t device = 0;  // st_rdev for dev/chardev
  // Blob ids of a file's content in file order. restic writes [] for every
  // file (even an empty one) and null for every other type; nullopt is null.
  std::optional<std::vector<Id>> content;
  std::optional<Id> subtree;  // dirs only
  std::string error;          // omitted when empty

  friend bool operator==(const Node&, const Node&) = default;
};

// The node restic 0.14 builds from lstat(2) data: type and Go mode, mtime and
// ctime in local time, atime = mtime unless with_atime (restic's default since
// 0.8.1), uid/gid, inode, device_id; size for files; links for files,
// symlinks and devices; device (st_rdev) for devices; content = [] for files.
// The caller adds what needs more IO or lookups: user/group names, linktarget,
// extended_attributes, content ids and subtree. Unknown file types give
// kIrregular.
Node NodeFromStat(std::string name, const struct stat& st, bool with_atime = false);

}  // namespace stash::format
