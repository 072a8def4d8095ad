#include "stash/engine/ls.h"

#include <cstdio>

#include "stash/engine/filter.h"
#include "stash/engine/walker.h"
#include "stash/format/gojson.h"

namespace stash::engine {

namespace {

std::vector<std::string_view> Components(const std::string& clean) {
  std::vector<std::string_view> parts;
  std::string_view s = clean;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    std::string_view part = s.substr(start, slash == s.npos ? s.npos : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == s.npos) break;
    start = slash + 1;
  }
  return parts;
}

}  // namespace

std::string GoFileModeString(uint32_t mode) {
  static constexpr char kTypes[] = "dalTLDpSugct?";
  std::string s;
  for (int i = 0; i < 13; ++i) {
    if (mode & (1u << (31 - i))) s += kTypes[i];
  }
  if (s.empty()) s = "-";
  static constexpr char kRwx[] = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (1u << (8 - i))) ? kRwx[i] : '-';
  return s;
}

std::string LsLongLine(const std::string& path, const format::Node& node) {
  uint32_t type_bits = 0;
  std::string target;
  switch (node.type) {
    case format::NodeType::kDir:
      type_bits = format::kGoModeDir;
      break;
    case format::NodeType::kSymlink:
      type_bits = format::kGoModeSymlink;
      target = " -> " + node.linktarget;
      break;
    case format::NodeType::kDev:
      type_bits = format::kGoModeDevice;
      break;
    case format::NodeType::kCharDev:
      type_bits = format::kGoModeDevice | format::kGoModeCharDevice;
      break;
    case format::NodeType::kFifo:
      type_bits = format::kGoModeNamedPipe;
      break;
    case format::NodeType::kSocket:
      type_bits = format::kGoModeSocket;
      break;
    default:
      break;
  }
  char nums[80];
  std::snprintf(nums, sizeof nums, " %5u %5u %6llu ", node.uid, node.gid,
                static_cast<unsigned long long>(node.size));
  return GoFileModeString(type_bits | node.mode) + nums + LocalTimeString(node.mtime) + " " + path +
         target;
}

std::string LsNodeJson(const std::string& path, const format::Node& node) {
  format::GoJsonWriter w;
  w.BeginObject();
  w.Key("name");
  w.String(node.name);
  w.Key("type");
  w.String(format::NodeTypeName(node.type));
  w.Key("path");
  w.String(path);
  w.Key("uid");
  w.Uint(node.uid);
  w.Key("gid");
  w.Uint(node.gid);
  if (node.type == format::NodeType::kFile) {
    w.Key("size");
    w.Uint(node.size);
  }
  if (node.mode != 0) {
    w.Key("mode");
    w.Uint(node.mode);
  }
  w.Key("permissions");
  w.String(GoFileModeString(node.mode));
  w.Key("mtime");
  w.String(format::FormatRfc3339Nano(node.mtime));
  w.Key("atime");
  w.String(format::FormatRfc3339Nano(node.atime));
  w.Key("ctime");
  w.String(format::FormatRfc3339Nano(node.ctime));
  w.Key("struct_type");
  w.String("node");
  w.EndObject();
  return w.Take();
}

std::string LsHeader(const SnapshotEntry& entry, const std::vector<std::string>& dirs) {
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
    return s + "]";
  };
  return "snapshot " + entry.id.ShortHex() + " of " + list(entry.snapshot.paths) + " filtered by " +
         list(dirs) + " at " + GoTimeString(entry.snapshot.time) + "):";
}

bool HasPathPrefix(std::string_view base, std::string_view path) {
  std::string b = GoPathClean(base);
  std::string p = GoPathClean(path);
  if ((b[0] == '/') != (p[0] == '/')) return false;
  auto bc = Components(b);
  auto pc = Components(p);
  if (bc.size() > pc.size()) return false;
  for (size_t i = 0; i < bc.size(); ++i) {
    if (bc[i] != pc[i]) return false;
  }
  return true;
}

Status ListSnapshot(repo::Repository& repo, const SnapshotEntry& entry, const LsOptions& opts,
                    const std::function<void(std::string_view)>& out) {
  for (const std::string& dir : opts.dirs) {
    if (dir.empty() || dir[0] != '/') {
      return InvalidError("All path filters must be absolute, starting with a forward slash '/'");
    }
  }
  auto within = [&](const std::string& path) {
    if (opts.dirs.empty()) return true;
    for (const std::string& dir : opts.dirs) {
      if (HasPathPrefix(dir, path)) return true;
    }
    return false;
  };
  auto approaching = [&](const std::string& path) {
    if (opts.dirs.empty()) return true;
    for (const std::string& dir : opts.dirs) {
      if (HasPathPrefix(path, dir)) return true;
    }
    return false;
  };
  if (opts.json) out(SnapshotJson(entry, "snapshot") + "\n");
  return WalkTree(repo, entry.snapshot.tree, "/",
                  [&](const std::string& path, const format::Node& node) -> Result<WalkAction> {
                    if (within(path)) {
                      if (opts.json) {
                        out(LsNodeJson(path, node) + "\n");
                      } else {
                        out((opts.long_format ? LsLongLine(path, node) : path) + "\n");
                      }
                      if (opts.recursive) return WalkAction::kContinue;
                    }
                    if (approaching(path)) return WalkAction::kContinue;
                    return WalkAction::kSkipSubtree;
                  });
}

}  // namespace stash::engine
