#include "stash/format/node.h"

#include <sys/stat.h>

namespace stash::format {
namespace {

constexpr std::string_view kNodeTypeNames[] = {"file",    "dir",  "symlink", "dev",
                                               "chardev", "fifo", "socket",  "irregular"};

}  // namespace

std::string_view NodeTypeName(NodeType type) { return kNodeTypeNames[static_cast<size_t>(type)]; }

std::optional<NodeType> ParseNodeType(std::string_view name) {
  for (size_t i = 0; i < std::size(kNodeTypeNames); ++i) {
    if (kNodeTypeNames[i] == name) return static_cast<NodeType>(i);
  }
  return std::nullopt;
}

uint32_t GoModeFromStat(mode_t st_mode) {
  uint32_t mode = st_mode & kGoModePerm;
  switch (st_mode & S_IFMT) {
    case S_IFBLK:
      mode |= kGoModeDevice;
      break;
    case S_IFCHR:
      mode |= kGoModeDevice | kGoModeCharDevice;
      break;
    case S_IFDIR:
      mode |= kGoModeDir;
      break;
    case S_IFIFO:
      mode |= kGoModeNamedPipe;
      break;
    case S_IFLNK:
      mode |= kGoModeSymlink;
      break;
    case S_IFSOCK:
      mode |= kGoModeSocket;
      break;
    default:
      break;  // S_IFREG has no Go type bit
  }
  if (st_mode & S_ISUID) mode |= kGoModeSetuid;
  if (st_mode & S_ISGID) mode |= kGoModeSetgid;
  if (st_mode & S_ISVTX) mode |= kGoModeSticky;
  return mode;
}

mode_t StatModeFromGo(uint32_t go_mode) {
  mode_t mode = go_mode & kGoModePerm;
  switch (NodeTypeFromGoMode(go_mode)) {
    case NodeType::kDir:
      mode |= S_IFDIR;
      break;
    case NodeType::kSymlink:
      mode |= S_IFLNK;
      break;
    case NodeType::kDev:
      mode |= S_IFBLK;
      break;
    case NodeType::kCharDev:
      mode |= S_IFCHR;
      break;
    case NodeType::kFifo:
      mode |= S_IFIFO;
      break;
    case NodeType::kSocket:
      mode |= S_IFSOCK;
      break;
    default:
      mode |= S_IFREG;
      break;
  }
  if (go_mode & kGoModeSetuid) mode |= S_ISUID;
  if (go_mode & kGoModeSetgid) mode |= S_ISGID;
  if (go_mode & kGoModeSticky) mode |= S_ISVTX;
  return mode;
}

NodeType NodeTypeFromGoMode(uint32_t go_mode) {
  if (go_mode & kGoModeDir) return NodeType::kDir;
  if (go_mode & kGoModeSymlink) return NodeType::kSymlink;
  if (go_mode & kGoModeDevice) {
    return (go_mode & kGoModeCharDevice) ? NodeType::kCharDev : NodeType::kDev;
  }
  if (go_mode & kGoModeNamedPipe) return NodeType::kFifo;
  if (go_mode & kGoModeSocket) return NodeType::kSocket;
  if (go_mode & kGoModeIrregular) return NodeType::kIrregular;
  return NodeType::kFile;
}

Node NodeFromStat(std::string name, const struct stat& st, bool with_atime) {
  Node n;
  n.name = std::move(name);
  n.mode = GoModeFromStat(st.st_mode);
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      n.type = NodeType::kFile;
      break;
    case S_IFDIR:
      n.type = NodeType::kDir;
      break;
    case S_IFLNK:
      n.type = NodeType::kSymlink;
      break;
    case S_IFBLK:
      n.type = NodeType::kDev;
      break;
    case S_IFCHR:
      n.type = NodeType::kCharDev;
      break;
    case S_IFIFO:
      n.type = NodeType::kFifo;
      break;
    case S_IFSOCK:
      n.type = NodeType::kSocket;
      break;
    default:
      n.type = NodeType::kIrregular;
      break;
  }
  const auto local = [](const struct timespec& ts) {
    return LocalTimestamp(ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec));
  };
  n.mtime = local(st.st_mtim);
  n.atime = with_atime ? local(st.st_atim) : n.mtime;
  n.ctime = local(st.st_ctim);
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.inode = st.st_ino;
  n.device_id = st.st_dev;
  switch (n.type) {
    case NodeType::kFile:
      n.size = static_cast<uint64_t>(st.st_size);
      n.links = st.st_nlink;
      n.content = std::vector<Id>{};
      break;
    case NodeType::kSymlink:
      n.links = st.st_nlink;
      break;
    case NodeType::kDev:
    case NodeType::kCharDev:
      n.links = st.st_nlink;
      n.device = st.st_rdev;
      break;
    default:
      break;
  }
  return n;
}

}  // namespace stash::format
