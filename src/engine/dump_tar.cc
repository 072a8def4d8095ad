// The tar side of `dump`: pax extended headers carry what ustar cannot (long
// names and link targets, nanosecond times, large ids and sizes), so GNU tar
// and Go's archive/tar read every entry back exactly.
#include <cstdio>
#include <cstring>

#include "stash/engine/dump.h"
#include "stash/engine/filter.h"
#include "stash/engine/walker.h"

namespace stash::engine {

namespace {

constexpr size_t kBlock = 512;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void Octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

std::string PaxRecord(const std::string& key, const std::string& value) {
  // "<len> key=value\n" where len counts itself.
  size_t body = key.size() + value.size() + 3;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

std::string PaxTime(const format::Timestamp& t) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09u", static_cast<long long>(t.unix_sec), t.nsec);
  return buf;
}

std::string Header(const std::string& name, char type, uint64_t size, uint32_t mode,
                   const format::Node& node, const std::string& linkname) {
  std::string h(kBlock, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  Octal(&h[100], 8, mode);
  Octal(&h[108], 8, node.uid & 07777777);
  Octal(&h[116], 8, node.gid & 07777777);
  Octal(&h[124], 12, size < (1ull << 33) ? size : 0);
  Octal(&h[136], 12, node.mtime.unix_sec > 0 ? static_cast<uint64_t>(node.mtime.unix_sec) : 0);
  h[156] = type;
  std::memcpy(&h[157], linkname.data(), std::min<size_t>(linkname.size(), 100));
  std::memcpy(&h[257],
              "ustar\0"
              "00",
              8);
  std::memcpy(&h[265], node.user.data(), std::min<size_t>(node.user.size(), 31));
  std::memcpy(&h[297], node.group.data(), std::min<size_t>(node.group.size(), 31));
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

std::string Padding(uint64_t size) { return std::string((kBlock - size % kBlock) % kBlock, '\0'); }

// `top`: a direct child of the dumped directory. restic writes those even when
// they are fifos, devices or sockets (as empty regular files); deeper ones it
// skips. Both quirks are kept so the archives list the same entries.
Status WriteEntry(repo::Repository& repo, const std::string& path, const format::Node& node,
                  bool top, const WriteFn& write) {
  char type;
  std::string name = path.substr(1);  // relative to the snapshot root
  uint64_t size = 0;
  switch (node.type) {
    case format::NodeType::kFile:
      type = '0';
      size = node.size;
      break;
    case format::NodeType::kDir:
      type = '5';
      name += "/";
      break;
    case format::NodeType::kSymlink:
      type = '2';
      break;
    default:
      if (!top) return Status::Ok();
      type = '0';
  }
  uint32_t mode = node.mode & 0777;
  if (node.mode & format::kGoModeSetuid) mode |= 04000;
  if (node.mode & format::kGoModeSetgid) mode |= 02000;
  if (node.mode & format::kGoModeSticky) mode |= 01000;
  std::string pax =
      PaxRecord("path", name) + PaxRecord("mtime", PaxTime(node.mtime)) +
      PaxRecord("atime", PaxTime(node.atime)) + PaxRecord("ctime", PaxTime(node.ctime)) +
      PaxRecord("uid", std::to_string(node.uid)) + PaxRecord("gid", std::to_string(node.gid)) +
      PaxRecord("size", std::to_string(size));
  if (node.type == format::NodeType::kSymlink) pax += PaxRecord("linkpath", node.linktarget);
  if (!node.user.empty()) pax += PaxRecord("uname", node.user);
  if (!node.group.empty()) pax += PaxRecord("gname", node.group);
  format::Node pax_node;
  std::string pax_name = "PaxHeaders/" + name.substr(0, 80);
  STASH_RETURN_IF_ERROR(write(Bytes(Header(pax_name, 'x', pax.size(), 0644, pax_node, ""))));
  STASH_RETURN_IF_ERROR(write(Bytes(pax + Padding(pax.size()))));
  STASH_RETURN_IF_ERROR(write(Bytes(Header(name, type, size, mode, node, node.linktarget))));
  if (node.type != format::NodeType::kFile || size == 0) return Status::Ok();
  uint64_t written = 0;
  for (const Id& blob_id : node.content.value_or(std::vector<Id>{})) {
    auto blob = repo.LoadBlob(repo::BlobKind::kData, blob_id);
    if (!blob.ok()) return Status(blob.status()).Prepend("loading blob " + blob_id.Hex());
    STASH_RETURN_IF_ERROR(write(*blob));
    written += blob->size();
  }
  if (written != size) {
    return Status(Code::kDataLoss, "file \"" + path + "\": content has " + std::to_string(written) +
                                       " bytes, the node says " + std::to_string(size));
  }
  return write(Bytes(Padding(size)));
}

}  // namespace

Result<bool> IsDirectory(repo::Repository& repo, const SnapshotEntry& entry,
                         std::string_view path) {
  if (GoPathClean(path) == "/") return true;
  STASH_ASSIGN_OR_RETURN(format::Node node, FindNode(repo, entry.snapshot.tree, path));
  return node.type == format::NodeType::kDir;
}

Status DumpTar(repo::Repository& repo, const SnapshotEntry& entry, std::string_view path,
               const WriteFn& write) {
  std::string root = GoPathClean(path);
  Id tree = entry.snapshot.tree;
  if (root != "/") {
    STASH_ASSIGN_OR_RETURN(format::Node node, FindNode(repo, entry.snapshot.tree, root));
    if (node.type != format::NodeType::kDir || !node.subtree) {
      return InvalidError("\"" + root + "\" is not a directory");
    }
    tree = *node.subtree;
  }
  STASH_RETURN_IF_ERROR(WalkTree(
      repo, tree, root, [&](const std::string& p, const format::Node& n) -> Result<WalkAction> {
        bool top = JoinPath(root, n.name) == p;
        STASH_RETURN_IF_ERROR(WriteEntry(repo, p, n, top, write));
        return WalkAction::kContinue;
      }));
  return write(Bytes(std::string(2 * kBlock, '\0')));
}

}  // namespace stash::engine
