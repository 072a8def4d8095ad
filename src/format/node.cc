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

}  // namespace stash::format
