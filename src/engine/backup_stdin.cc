#include "backup_stdin.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "stash/chunker/chunker.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/filter.h"
#include "stash/format/node.h"
#include "stash/format/tree.h"

namespace stash::engine {

namespace {

format::Node FakeNode(std::string name, const format::Timestamp& when) {
  format::Node n;
  n.name = std::move(name);
  n.mtime = n.atime = n.ctime = when;
  n.uid = getuid();
  n.gid = getgid();
  return n;
}

Result<bool> SaveTree(repo::Repository& repo, const std::vector<format::Node>& nodes, Id* id) {
  STASH_ASSIGN_OR_RETURN(std::string tree, format::EncodeTree(nodes));
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(tree.data()), tree.size());
  *id = crypto::Sha256(bytes);
  return repo.SaveBlob(repo::BlobKind::kTree, *id, bytes);
}

}  // namespace

Result<StdinResult> BackupStdin(repo::Repository& repo, int fd, const std::string& name,
                                const format::Timestamp& when, const format::Timestamp& now,
                                BackupProgress* progress) {
  StdinResult r;
  r.path = GoPathClean("/" + name);
  if (r.path == "/") return InvalidError("--stdin-filename \"" + name + "\" names no file");

  format::Node file = FakeNode("", when);
  file.type = format::NodeType::kFile;
  file.mode = 0644;
  file.content.emplace();
  chunker::Chunker chunker(chunker::TablesFor(repo.chunker_polynomial()));
  chunker.Reset();
  std::vector<uint8_t> block(1 << 20);
  std::vector<uint8_t> cur;
  auto store = [&]() -> Status {
    Id id = crypto::Sha256(cur);
    STASH_ASSIGN_OR_RETURN(bool added, repo.SaveBlob(repo::BlobKind::kData, id, cur));
    if (added) ++r.data_blobs;
    file.content->push_back(id);
    cur.clear();
    return Status::Ok();
  };
  while (true) {
    ssize_t n = read(fd, block.data(), block.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "read stdin");
    if (n == 0) break;
    r.size += static_cast<uint64_t>(n);
    if (progress) progress->bytes_done += static_cast<uint64_t>(n);
    std::span<const uint8_t> rest(block.data(), static_cast<size_t>(n));
    while (!rest.empty()) {
      bool cut = false;
      size_t used = chunker.Next(rest, &cut);
      cur.insert(cur.end(), rest.begin(), rest.begin() + used);
      rest = rest.subspan(used);
      if (cut) STASH_RETURN_IF_ERROR(store());
    }
  }
  if (!cur.empty()) STASH_RETURN_IF_ERROR(store());
  file.size = r.size;
  if (progress) {
    ++progress->files_done;
    progress->total_files = 1;
    progress->total_bytes = r.size;
  }

  // Bottom-up: the file in its directory, each directory in its parent.
  std::vector<std::string> parts;
  for (size_t pos = 1; pos < r.path.size();) {
    size_t end = r.path.find('/', pos);
    if (end == std::string::npos) end = r.path.size();
    parts.push_back(r.path.substr(pos, end - pos));
    pos = end + 1;
  }
  file.name = parts.back();
  format::Node child = std::move(file);
  for (size_t i = parts.size() - 1;; --i) {
    Id tree;
    STASH_ASSIGN_OR_RETURN(bool added, SaveTree(repo, {child}, &tree));
    if (added) ++r.tree_blobs;
    if (i == 0) {
      r.tree = tree;
      break;
    }
    child = FakeNode(parts[i - 1], now);
    child.type = format::NodeType::kDir;
    child.mode = format::kGoModeDir | 0755;
    child.subtree = tree;
    ++r.dirs_new;
  }
  return r;
}

}  // namespace stash::engine
